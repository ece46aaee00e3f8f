//! Apps: the set of stacks a program synthesizes and deploys together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::error::{Error, Result};
use super::rules::{RulePack, RuleReport};
use super::stack::{Environment, Stack};
use super::template::Template;

/// An app: several [`Stack`]s, synthesized together so that cross-stack
/// checks (unique export names, dependencies) hold, and checked by the
/// rule packs it was given ([`App::with_rule_packs`]).
#[derive(Debug, Clone, Default)]
pub struct App {
    stacks: Vec<Stack>,
    rule_packs: Vec<RulePack>,
}

/// One synthesized stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackArtifact {
    /// The stack name.
    pub name: String,
    /// Where it deploys.
    pub env: Environment,
    /// The final template.
    pub template: Template,
    /// The template as pretty JSON with a trailing newline.
    pub json: String,
    /// Stack tags.
    pub tags: BTreeMap<String, String>,
    /// Whether termination protection is on.
    pub termination_protection: bool,
    /// Stacks that must be deployed first.
    pub depends_on: Vec<String>,
    /// What the app's rule packs found: warnings, acknowledged findings,
    /// stale acknowledgements (errors fail [`App::synth`]).
    pub rules: RuleReport,
    /// The file assets the template needs published first, by hash.
    pub assets: Vec<super::asset::FileAsset>,
}

impl StackArtifact {
    /// The template JSON.
    pub fn template_json(&self) -> &str {
        &self.json
    }

    /// The template as JSON without whitespace: what a deployment sends.
    /// CloudFormation's size limits (51,200 bytes inline, 1 MB from S3)
    /// count these bytes, and the pretty file is about 1.8 times larger.
    pub fn compact_json(&self) -> Result<String> {
        serde_json::to_string(&self.template).map_err(|e| Error::Serialization {
            stack: self.name.clone(),
            message: e.to_string(),
        })
    }

    /// The file name under `synth-out/`: `<stack>.template.json`.
    pub fn file_name(&self) -> String {
        format!("{}.template.json", self.name)
    }

    /// The number of resources.
    pub fn resource_count(&self) -> usize {
        self.template.resources.len()
    }
}

impl App {
    /// An empty app.
    pub fn new() -> Self {
        App::default()
    }

    /// The same app, checked by `packs` at synthesis (replacing any packs
    /// set before). The library's built-in packs are
    /// `khs_constructs::rules::builtin()`; add a pack of your own, or
    /// choose among them.
    ///
    /// Default: - no pack runs.
    pub fn with_rule_packs(mut self, packs: Vec<RulePack>) -> Self {
        self.rule_packs = packs;
        self
    }

    /// The rule packs that run at synthesis.
    pub fn rule_packs(&self) -> &[RulePack] {
        &self.rule_packs
    }

    /// Adds a stack; stack names are unique within an app.
    pub fn add_stack(&mut self, stack: Stack) -> Result<()> {
        if self.stacks.iter().any(|s| s.name() == stack.name()) {
            return Err(Error::DuplicateStack {
                name: stack.name().to_string(),
            });
        }
        self.stacks.push(stack);
        Ok(())
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// Synthesizes every stack, in dependency order (a stack after the
    /// stacks it depends on; otherwise in the order added), and runs the
    /// rule packs over each template: an unacknowledged error-level finding
    /// is an [`Error::RuleViolations`].
    pub fn synth(&self) -> Result<Vec<StackArtifact>> {
        let references = super::references::Plan::new(&self.stacks)?;
        let order = references.order(&self.stacks)?;
        let mut out = Vec::with_capacity(order.len());
        for stack in order {
            let mut template = stack.synth_rewritten(|t| references.apply(stack, t))?;
            let rules = super::rules::check_template(
                &self.rule_packs,
                stack.name(),
                &mut template,
                stack.acknowledgements(),
            )?;
            let json = template
                .to_pretty_json()
                .map_err(|e| Error::Serialization {
                    stack: stack.name().to_string(),
                    message: e.to_string(),
                })?;
            if json.len() > super::validate::MAX_TEMPLATE_BYTES {
                return Err(Error::LimitExceeded {
                    stack: stack.name().to_string(),
                    what: "the template size in bytes".to_string(),
                    got: json.len(),
                    max: super::validate::MAX_TEMPLATE_BYTES,
                });
            }
            out.push(StackArtifact {
                name: stack.name().to_string(),
                env: stack.env().clone(),
                template,
                json,
                tags: stack.props().tags.clone(),
                termination_protection: stack.props().termination_protection,
                depends_on: references.all_dependencies(stack),
                rules,
                assets: stack.assets().values().cloned().collect(),
            });
        }
        let checked: Vec<super::references::Synthesized<'_>> = out
            .iter()
            .map(|a| super::references::Synthesized {
                name: &a.name,
                env: &a.env,
                template: &a.template,
                depends_on: &a.depends_on,
            })
            .collect();
        super::references::check_app(&checked)?;
        Ok(out)
    }

    /// Writes every template to `dir/<stack>.template.json` (creating `dir`)
    /// and removes stale `*.template.json` files of stacks no longer in the app.
    pub fn write(artifacts: &[StackArtifact], dir: &Path) -> Result<()> {
        let io = |p: &Path, e: std::io::Error| Error::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let keep: BTreeSet<String> = artifacts.iter().map(StackArtifact::file_name).collect();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".template.json") && !keep.contains(&name) {
                std::fs::remove_file(entry.path()).map_err(|e| io(&entry.path(), e))?;
            }
        }
        for a in artifacts {
            let p = dir.join(a.file_name());
            let same = std::fs::read_to_string(&p).is_ok_and(|old| old == a.json);
            if !same {
                std::fs::write(&p, &a.json).map_err(|e| io(&p, e))?;
            }
        }
        Ok(())
    }

    /// Compares `dir` with the artifacts; returns the file names that are
    /// missing, different or stale (empty when `dir` is up to date).
    pub fn check(artifacts: &[StackArtifact], dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let keep: BTreeSet<String> = artifacts.iter().map(StackArtifact::file_name).collect();
        for a in artifacts {
            let p = dir.join(a.file_name());
            match std::fs::read_to_string(&p) {
                Ok(old) if old == a.json => {}
                Ok(_) => out.push(format!("{} differs from the code", a.file_name())),
                Err(_) => out.push(format!("{} is missing", a.file_name())),
            }
        }
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut stale: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".template.json") && !keep.contains(n))
                .map(|n| format!("{n} belongs to no stack of the app"))
                .collect();
            stale.sort();
            out.extend(stale);
        }
        out
    }
}
