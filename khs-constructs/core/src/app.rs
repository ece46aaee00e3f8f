//! Apps: the set of stacks a program synthesizes and deploys together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use super::error::{Error, Result};
use super::rules::{RulePack, RuleReport};
use super::stack::{Environment, Stack};
use super::template::Template;
use super::timings::SynthTimings;

/// An app: several [`Stack`]s, synthesized together so that cross-stack
/// checks (unique export names, dependencies) hold, and checked by the
/// rule packs it was given ([`App::with_rule_packs`]).
#[derive(Debug, Clone, Default)]
pub struct App {
    stacks: Vec<Stack>,
    rule_packs: Vec<RulePack>,
    /// `None`: the machine's available parallelism.
    threads: Option<usize>,
}

/// The checks across the stacks of an app, on their artifacts: export names
/// unique per account and region, every import made from a stack the
/// importer depends on.
fn check_artifacts(artifacts: &[StackArtifact]) -> Result<()> {
    let checked: Vec<super::references::Synthesized<'_>> = artifacts
        .iter()
        .map(|a| super::references::Synthesized {
            name: &a.name,
            env: &a.env,
            template: &a.template,
            depends_on: &a.depends_on,
            references: Some(&a.references),
        })
        .collect();
    super::references::check_app(&checked)
}

/// Below this many resources in the app, synthesis runs on the calling
/// thread: starting threads would cost more than it saves.
const PARALLEL_MIN_RESOURCES: usize = 100;

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
    /// What each resource of the template refers to, recorded by the
    /// reference check (not part of the JSON). Default: - empty, for an
    /// artifact made by hand; [`References::of`](super::validate::References::of)
    /// computes it.
    pub references: super::validate::References,
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
        super::json_text::with_raw_text(|| serde_json::to_string(&self.template)).map_err(|e| {
            Error::Serialization {
                stack: self.name.clone(),
                message: e.to_string(),
            }
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

    /// The same app, synthesizing its stacks on at most `threads` threads
    /// (`1`: on the calling thread only). Stacks are independent once the
    /// references between them are planned, so each is finished, checked by
    /// the rule packs and written as JSON on whichever thread is free; the
    /// artifacts, their order and any error reported are the same for every
    /// number of threads.
    ///
    /// Default: - the machine's available parallelism
    /// (`std::thread::available_parallelism`), for apps of at least 100
    /// resources; smaller apps use the calling thread.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// The number of threads synthesis may use (see [`App::with_threads`]).
    pub fn threads(&self) -> usize {
        // Asking the system reads the process's CPU quota and affinity:
        // once per process is enough.
        static AVAILABLE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        self.threads.unwrap_or_else(|| {
            *AVAILABLE.get_or_init(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            })
        })
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
        self.synth_timed().map(|(artifacts, _)| artifacts)
    }

    /// [`App::synth`], also telling how long each phase took.
    pub fn synth_timed(&self) -> Result<(Vec<StackArtifact>, SynthTimings)> {
        let references = super::references::Plan::new(&self.stacks)?;
        let templates = self.stacks.iter().map(|s| s.template().clone()).collect();
        let (artifacts, timings) = self.synth_templates(references, templates)?;
        check_artifacts(&artifacts)?;
        Ok((artifacts, timings))
    }

    /// [`App::synth`] of an app that is not needed afterwards: each stack's
    /// template moves into its artifact instead of being copied, which saves
    /// time and about a third of the memory of a large app.
    pub fn into_synth(self) -> Result<Vec<StackArtifact>> {
        self.into_synth_timed().map(|(artifacts, _)| artifacts)
    }

    /// [`App::into_synth`], also telling how long each phase took.
    pub fn into_synth_timed(self) -> Result<(Vec<StackArtifact>, SynthTimings)> {
        let (artifacts, timings) = self.into_synth_unchecked()?;
        check_artifacts(&artifacts)?;
        Ok((artifacts, timings))
    }

    /// [`App::into_synth_timed`] without the checks across the app's stacks
    /// (export names, imports), which the caller makes.
    fn into_synth_unchecked(mut self) -> Result<(Vec<StackArtifact>, SynthTimings)> {
        // The references are read from the templates as built, before
        // they move out of the stacks.
        let references = super::references::Plan::new(&self.stacks)?;
        let templates = self.stacks.iter_mut().map(Stack::take_template).collect();
        self.synth_templates(references, templates)
    }

    /// Builds and synthesizes apps that share nothing, such as the stages
    /// of a project (no stack of one refers to a stack of another), on at
    /// most `threads` threads: `build` makes the app of each input, and the
    /// thread that built an app synthesizes its stacks at once, while other
    /// apps are still being built. The stacks of all the apps are then
    /// checked together, as the stacks of one app are: stack names unique,
    /// export names unique per account and region, every import made from
    /// a stack it depends on.
    ///
    /// The artifacts come in the order of `inputs`, each app's in its
    /// deployment order; the timings are summed over the apps. The
    /// templates are the same as when every stack is added to one app, and
    /// so is the error reported when the apps are fine on their own; when
    /// several fail, the first in the order of `inputs` is reported. It is
    /// faster on several cores when the apps take uneven time to build: the
    /// stacks of a small stage are finished while a large one is still
    /// being built, instead of after it.
    ///
    /// ```
    /// use khs_core::app::App;
    /// use khs_core::stack::{Environment, Stack, StackProps};
    /// let stages = vec!["staging", "production"];
    /// let (artifacts, _timings) = App::synth_independent(stages, 2, |stage| {
    ///     let mut app = App::new();
    ///     app.add_stack(Stack::new(
    ///         &format!("shop-{stage}"),
    ///         StackProps::new(Environment::region("eu-west-1")),
    ///     )?)?;
    ///     Ok(app)
    /// })?;
    /// let names: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
    /// assert_eq!(names, ["shop-staging", "shop-production"]);
    /// # Ok::<(), khs_core::error::Error>(())
    /// ```
    pub fn synth_independent<T, F>(
        inputs: Vec<T>,
        threads: usize,
        build: F,
    ) -> Result<(Vec<StackArtifact>, SynthTimings)>
    where
        T: Send,
        F: Fn(T) -> Result<App> + Sync,
    {
        let results = super::parallel::map_in_order(inputs, threads, |input| {
            build(input)?.with_threads(1).into_synth_unchecked()
        });
        let mut timings = SynthTimings::default();
        let mut out: Vec<StackArtifact> = Vec::new();
        let mut names = BTreeSet::new();
        for result in results {
            let (artifacts, t) = result?;
            timings += t;
            for artifact in artifacts {
                if !names.insert(artifact.name.clone()) {
                    return Err(Error::DuplicateStack {
                        name: artifact.name,
                    });
                }
                out.push(artifact);
            }
        }
        let checking = Instant::now();
        check_artifacts(&out)?;
        timings.stacks += checking.elapsed();
        Ok((out, timings))
    }

    /// Synthesizes the stacks from `templates`, their templates as built
    /// (one per stack, in the order of `self.stacks`), writing the
    /// references between stacks that `references` planned from them.
    fn synth_templates(
        &self,
        references: super::references::Plan,
        templates: Vec<Template>,
    ) -> Result<(Vec<StackArtifact>, SynthTimings)> {
        let order = references.order(&self.stacks)?;
        let index_of: BTreeMap<&str, usize> = self
            .stacks
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name(), i))
            .collect();
        let mut templates: Vec<Option<Template>> = templates.into_iter().map(Some).collect();
        let jobs: Vec<(&Stack, Template)> = order
            .into_iter()
            .map(|stack| {
                let built = index_of
                    .get(stack.name())
                    .and_then(|&i| templates.get_mut(i))
                    .and_then(Option::take)
                    .unwrap_or_default();
                (stack, built)
            })
            .collect();
        let resources: usize = jobs.iter().map(|(_, t)| t.resources.len()).sum();
        let threads = if resources < PARALLEL_MIN_RESOURCES {
            1
        } else {
            self.threads()
        };
        let results = super::parallel::map_in_order(jobs, threads, |(stack, built)| {
            self.synth_stack(&references, stack, built)
        });
        let mut timings = SynthTimings::default();
        let mut out = Vec::with_capacity(results.len());
        // The first error in deployment order is the one reported, however
        // the stacks were spread over threads.
        for result in results {
            let (artifact, t) = result?;
            timings += t;
            out.push(artifact);
        }
        Ok((out, timings))
    }

    /// Finishes, checks and writes the template of one stack: `built` is
    /// its template as built.
    fn synth_stack(
        &self,
        references: &super::references::Plan,
        stack: &Stack,
        mut built: Template,
    ) -> Result<(StackArtifact, SynthTimings)> {
        let mut timings = SynthTimings::default();
        let started = Instant::now();
        references.apply(stack, &mut built)?;
        let (mut template, referents) = stack.finish_recorded(built)?;
        let checked = Instant::now();
        timings.stacks += checked - started;
        let rules = super::rules::check_template(
            &self.rule_packs,
            stack.name(),
            &mut template,
            stack.acknowledgements(),
        )?;
        // The artifact keeps the text of what the rules read, not the
        // parsed values (readers parse again what they need).
        for entry in template.resources.values_mut() {
            entry.properties.forget_parsed();
            if let Some(metadata) = &mut entry.metadata {
                metadata.forget_parsed();
            }
        }
        let serializing = Instant::now();
        timings.rules += serializing - checked;
        let json = template
            .to_pretty_json()
            .map_err(|e| Error::Serialization {
                stack: stack.name().to_string(),
                message: e.to_string(),
            })?;
        timings.serialize += serializing.elapsed();
        if json.len() > super::validate::MAX_TEMPLATE_BYTES {
            return Err(Error::LimitExceeded {
                stack: stack.name().to_string(),
                what: "the template size in bytes".to_string(),
                got: json.len(),
                max: super::validate::MAX_TEMPLATE_BYTES,
            });
        }
        let artifact = StackArtifact {
            name: stack.name().to_string(),
            env: stack.env().clone(),
            template,
            json,
            tags: stack.props().tags.clone(),
            termination_protection: stack.props().termination_protection,
            depends_on: references.all_dependencies(stack),
            rules,
            assets: stack.assets().values().cloned().collect(),
            references: referents,
        };
        Ok((artifact, timings))
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
            if !same_content(&p, a.json.as_bytes()) {
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
            if !p.is_file() {
                out.push(format!("{} is missing", a.file_name()));
            } else if !same_content(&p, a.json.as_bytes()) {
                out.push(format!("{} differs from the code", a.file_name()));
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

/// Whether the file at `path` holds exactly `bytes` (`false` when it cannot
/// be read): the sizes first, then the contents a block at a time, so that
/// an unchanged template is neither copied into memory nor written again.
fn same_content(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file
        .metadata()
        .map_or(true, |m| m.len() != bytes.len() as u64)
    {
        return false;
    }
    let mut block = [0u8; 16 * 1024];
    let mut rest = bytes;
    loop {
        match file.read(&mut block) {
            Ok(0) => return rest.is_empty(),
            Ok(n) => match rest.split_at_checked(n) {
                Some((head, tail)) if head == &block[..n] => rest = tail,
                _ => return false,
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{PropertySpec, Resource, ResourceSpec, TagStyle};
    use crate::scope::AsScope;
    use crate::stack::{Environment, StackProps};
    use serde_json::json;

    /// A taggable resource type (the typed layer is not a dependency of
    /// the core's own unit tests).
    #[derive(serde::Serialize)]
    struct Topic {}

    const SPEC: ResourceSpec = ResourceSpec {
        type_name: "AWS::SNS::Topic",
        properties: &[PropertySpec {
            name: "Tags",
            required: false,
            replaces: false,
        }],
        create_only: &[],
        conditional_create_only: &[],
        attributes: &[],
        tags: TagStyle::KeyValueList,
        tag_property: "Tags",
        stateful: false,
        docs_url: "",
    };

    impl Resource for Topic {
        fn type_name(&self) -> &str {
            SPEC.type_name
        }
        fn spec(&self) -> Option<&'static ResourceSpec> {
            Some(&SPEC)
        }
    }

    fn stack(name: &str, deps: &[&str]) -> Stack {
        let mut props = StackProps::new(Environment::region("us-east-1"));
        props.tags.insert("team".into(), "core".into());
        props.tags.insert("app".into(), "demo".into());
        let mut s = Stack::new(name, props).unwrap();
        let topic = s.as_scope().add("Topic", Topic {}).unwrap();
        s.as_scope()
            .override_property(
                &topic,
                "Tags",
                json!([{"Key": "zone", "Value": "a"}, {"Key": "team", "Value": "mine"},
                       {"Key": "team", "Value": "later"}, {"Value": "no key"}]),
            )
            .unwrap();
        for d in deps {
            s.add_dependency(d);
        }
        s
    }

    #[test]
    fn stack_tags_merge_with_the_resources_own_the_later_own_tag_winning() {
        let t = stack("a", &[]).synth().unwrap();
        assert_eq!(
            t.resources["Topic"].properties["Tags"],
            json!([{"Key": "app", "Value": "demo"}, {"Key": "team", "Value": "later"},
                   {"Key": "zone", "Value": "a"}])
        );
    }

    #[test]
    fn into_synth_gives_what_synth_gives_in_dependency_order() {
        let mut app = App::new();
        app.add_stack(stack("c", &["b"])).unwrap();
        app.add_stack(stack("b", &[])).unwrap();
        app.add_stack(stack("a", &["c", "b"])).unwrap();
        app.add_stack(stack("d", &[])).unwrap();
        let by_ref = app.synth().unwrap();
        let names: Vec<&str> = by_ref.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "a", "d"]);
        assert_eq!(app.into_synth().unwrap(), by_ref);
    }

    /// An app of the stacks named, each depending on the ones after `<`
    /// (`"c<b"`: stack `c` depends on `b`).
    fn app_of(stacks: &[&str]) -> Result<App> {
        let mut app = App::new();
        for spec in stacks {
            let mut parts = spec.split('<');
            let name = parts.next().unwrap_or_default();
            let deps: Vec<&str> = parts.collect();
            app.add_stack(stack(name, &deps))?;
        }
        Ok(app)
    }

    #[test]
    fn independent_apps_give_what_one_app_of_all_their_stacks_gives() {
        let groups: Vec<&[&str]> = vec![&["c<b", "b", "a<c<b"], &["d"], &["f<e", "e"]];
        let mut all = App::new();
        for group in &groups {
            for stack in app_of(group).unwrap().stacks {
                all.add_stack(stack).unwrap();
            }
        }
        let expected = all.into_synth().unwrap();
        for threads in [1, 2, 3, 8] {
            let (got, _) = App::synth_independent(groups.clone(), threads, app_of).unwrap();
            let names: Vec<&str> = got.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["b", "c", "a", "d", "e", "f"], "{threads} threads");
            assert_eq!(got, expected, "{threads} threads");
        }
    }

    #[test]
    fn independent_apps_are_checked_together() {
        // A stack name used by two of them.
        let e =
            App::synth_independent(vec![["a", "b"], ["c", "a"]], 2, |g| app_of(&g)).unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::DuplicateStack { name: "a".into() }.to_string()
        );
        // An export name used twice in one account and region.
        let exporting = |name: &str| -> Result<App> {
            let mut app = App::new();
            let mut s = stack(name, &[]);
            let topic = s.as_scope().add("Queue", Topic {})?;
            s.as_scope().add_output(
                "Arn",
                crate::template::Output::new("arn", topic.ref_()).exported_as("shared"),
            )?;
            app.add_stack(s)?;
            Ok(app)
        };
        let e = App::synth_independent(vec!["x", "y"], 2, exporting).unwrap_err();
        assert!(
            matches!(&e, Error::DuplicateExport { stack, name, .. } if stack == "y" && name == "shared"),
            "{e}"
        );
        // Of two apps that fail, the first is reported, on any number of
        // threads.
        for threads in [1, 2] {
            let e = App::synth_independent(vec!["p", "q"], threads, |name| {
                Err::<App, _>(Error::DuplicateStack { name: name.into() })
            })
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                Error::DuplicateStack { name: "p".into() }.to_string()
            );
        }
    }

    #[test]
    fn fails_when_stacks_form_a_cycle_naming_the_stacks_in_it() {
        let mut app = App::new();
        app.add_stack(stack("a", &["b"])).unwrap();
        app.add_stack(stack("b", &["a"])).unwrap();
        app.add_stack(stack("c", &[])).unwrap();
        app.add_stack(stack("d", &["a"])).unwrap();
        let e = app.synth().unwrap_err().to_string();
        assert!(
            e.contains("stacks depend on each other in a cycle")
                && e.contains("a → b (declared with add_dependency)")
                && e.contains("b → a (declared with add_dependency)"),
            "{e}"
        );
        let mut app = App::new();
        app.add_stack(stack("a", &["nope"])).unwrap();
        let e = app.into_synth().unwrap_err().to_string();
        assert!(
            e.contains("names stack \"nope\", which is not in the app"),
            "{e}"
        );
    }

    /// A stack of `n` topics depending on the stacks `deps`.
    fn stack_of(name: &str, n: usize, deps: &[&str]) -> Stack {
        let mut s = stack(name, deps);
        for i in 0..n {
            s.as_scope().add(&format!("T{i}"), Topic {}).unwrap();
        }
        s
    }

    #[test]
    fn same_content_compares_sizes_then_every_block() {
        let dir = std::env::temp_dir().join(format!("khs-same-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.json");
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &big).unwrap();
        assert!(same_content(&p, &big));
        let mut late = big.clone();
        late[99_999] ^= 1;
        assert!(!same_content(&p, &late), "a difference in the last block");
        assert!(!same_content(&p, &big[..99_999]), "a shorter text");
        assert!(!same_content(&dir.join("missing.json"), b""));
        std::fs::write(&p, b"").unwrap();
        assert!(same_content(&p, b""));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_artifacts_are_the_same_on_any_number_of_threads() {
        let app = |threads: usize| {
            let mut app = App::new().with_threads(threads);
            app.add_stack(stack_of("c", 40, &["b"])).unwrap();
            app.add_stack(stack_of("b", 60, &[])).unwrap();
            app.add_stack(stack_of("a", 10, &["c", "b"])).unwrap();
            app.add_stack(stack_of("d", 50, &[])).unwrap();
            app.add_stack(stack_of("e", 30, &["a"])).unwrap();
            app
        };
        assert_eq!(app(0).threads(), 1, "at least one thread");
        let one = app(1).into_synth().unwrap();
        let names: Vec<&str> = one.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "a", "d", "e"]);
        for threads in [2, 3, 8] {
            assert_eq!(app(threads).into_synth().unwrap(), one, "{threads} threads");
            assert_eq!(app(threads).synth().unwrap(), one, "{threads} threads");
        }
    }

    #[test]
    fn the_error_reported_is_the_first_in_deployment_order_on_any_number_of_threads() {
        for threads in [1, 2, 4] {
            let mut app = App::new().with_threads(threads);
            // "z" and "b" are both over the resource quota; "b" is deployed
            // first ("z" depends on it), however the work is shared out.
            app.add_stack(stack_of("z", 501, &["b"])).unwrap();
            app.add_stack(stack_of("a", 5, &[])).unwrap();
            app.add_stack(stack_of("b", 501, &[])).unwrap();
            let e = app.into_synth().unwrap_err().to_string();
            assert!(
                e.starts_with("b: the number of resources is 502"),
                "{threads} threads: {e}"
            );
        }
    }
}
