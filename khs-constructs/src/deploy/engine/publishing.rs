//! Publishing file assets before a change set, and `bootstrap`.
//!
//! A deployment of a stack with an asset manifest (`<stack>.assets.json` in
//! [`Engine::with_asset_dir`]'s folder) first reads the bootstrap stack of
//! the region (refusing, with the command to run, when there is none), then
//! for each asset asks S3 whether its key exists (`HeadObject`) and uploads
//! it when not, one line per asset; only then is the change set created.
//! The template names the object itself (`Fn::Sub` bucket, `<hash>.zip`
//! key), so nothing is passed as a parameter and a code change is a change
//! of the function's `Code.S3Key` in the diff.

use std::path::PathBuf;

use super::{DeployOptions, DriftMode, Engine, Failure, Prepared, Res, Sink, StackSpec};
use crate::deploy::assets::{self, human_size};
use crate::deploy::bootstrap::{self, BOOTSTRAP_STACK, BootstrapInfo, BootstrapProps};
use crate::deploy::port::{CloudFormation, Connector, Existence};
use crate::deploy::s3_port::AssetStore;
use crate::serverless::asset::AssetManifest;

impl<K: Connector> Engine<K> {
    /// Publishes the assets listed in the manifests of `dir`
    /// (`<stack>.assets.json`, written by
    /// [`crate::serverless::asset::write_assets`]) before each stack's
    /// change set. Default: - no folder; stacks are deployed without
    /// publishing anything.
    pub fn with_asset_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.asset_dir = Some(dir.into());
        self
    }

    /// The manifest of stack `name`, if the engine has an asset folder and
    /// the stack has assets.
    fn manifest(&self, name: &str) -> Res<Option<AssetManifest>> {
        let Some(dir) = &self.asset_dir else {
            return Ok(None);
        };
        AssetManifest::read(dir, name).map_err(|e| Failure::Message(format!("{name}: {e}")))
    }

    /// Reads the bootstrap stack of the client's region.
    async fn bootstrap_info(&self, client: &K::Client, stack: &str) -> Res<BootstrapInfo> {
        let region = client.region().to_string();
        let Some(info) = client.describe_stack(BOOTSTRAP_STACK).await? else {
            return Err(Failure::Message(format!(
                "{stack}: has file assets to publish, but {region} of this account is not \
                 bootstrapped (no stack {BOOTSTRAP_STACK}); run `bootstrap` first (e.g. `khs \
                 bootstrap --region {region}`), which creates the staging bucket assets are \
                 uploaded to"
            )));
        };
        let template = if info.outputs.is_empty() && info.status != "REVIEW_IN_PROGRESS" {
            client.get_template(BOOTSTRAP_STACK).await.ok()
        } else {
            None
        };
        BootstrapInfo::read(&info, template.as_ref(), &region)
            .map_err(|e| Failure::Message(format!("{stack}: {e}")))
    }

    /// The publish step of a deployment: uploads the assets of `p`'s stack
    /// that the staging bucket does not hold yet (with `dry_run`, only says
    /// which it would upload). Called before the change set is created.
    pub(super) async fn publish_assets(
        &mut self,
        ui: &mut dyn Sink,
        client: &K::Client,
        p: &Prepared,
        dry_run: bool,
    ) -> Res {
        let name = p.spec.name.clone();
        let Some(manifest) = self.manifest(&name)? else {
            return Ok(());
        };
        if manifest.assets.is_empty() {
            return Ok(());
        }
        let boot = self.bootstrap_info(client, &name).await?;
        let dir = self.asset_dir.clone().unwrap_or_default();
        let uploads = assets::uploads(&manifest, &dir, &name, client.region(), &boot)
            .map_err(Failure::Message)?;
        ui.line(&format!(
            "{name}: {} asset(s) for s3://{}",
            uploads.len(),
            boot.bucket
        ));
        let (mut sent, mut kept) = (0usize, 0usize);
        for (i, u) in uploads.iter().enumerate() {
            if self.cancel.is_cancelled() {
                return Err(Failure::Interrupted(format!(
                    "Stopped: {name}: {sent} asset(s) uploaded; no change set was created."
                )));
            }
            let n = format!("[{}/{}]", i + 1, uploads.len());
            let existence = client.object_exists(&name, &u.bucket, &u.key).await?;
            if existence == Existence::Exists {
                kept += 1;
                ui.line(&format!(
                    "  {n} asset {} ({}): already published, skipped",
                    u.short_hash(),
                    human_size(u.size)
                ));
                continue;
            }
            // Read (and check) the bytes even for a dry run: a stale file
            // is an error either way.
            let bytes = assets::read_checked(&name, u).map_err(Failure::Message)?;
            if dry_run {
                ui.line(&format!(
                    "  {n} asset {} ({}) from {}: would be uploaded to s3://{}/{}",
                    u.short_hash(),
                    human_size(u.size),
                    u.source,
                    u.bucket,
                    u.key
                ));
                continue;
            }
            if let Existence::Unknown(why) = &existence {
                ui.line(&format!(
                    "  {n} asset {}: cannot tell whether it is there ({why}); uploading",
                    u.short_hash()
                ));
            }
            client
                .put_object(&name, &u.bucket, &u.key, bytes)
                .await
                .map_err(|e| {
                    Failure::Message(format!(
                        "{e}; the staging bucket is made by `bootstrap`: check that it exists \
                         and that these credentials may s3:PutObject to it"
                    ))
                })?;
            sent += 1;
            ui.line(&format!(
                "  {n} asset {} ({}) from {}: uploaded to s3://{}/{}",
                u.short_hash(),
                human_size(u.size),
                u.source,
                u.bucket,
                u.key
            ));
        }
        if !dry_run {
            ui.line(&format!(
                "{name}: assets published ({sent} uploaded, {kept} already there)."
            ));
        }
        Ok(())
    }

    /// After a diff: one note per function whose code becomes a new asset.
    pub(super) fn note_code_changes(&self, ui: &mut dyn Sink, p: &Prepared) -> Res {
        if let Some(manifest) = self.manifest(&p.spec.name)? {
            for line in assets::code_changes(&p.diff, &manifest) {
                ui.line(&format!("note: {line}"));
            }
        }
        Ok(())
    }

    /// `bootstrap`: deploys the bootstrap stack ([`bootstrap::stack`]) to
    /// each of `regions` through the same change-set flow as any stack (so
    /// a second run changes nothing), then says which bucket each region
    /// has.
    pub async fn bootstrap(
        &mut self,
        ui: &mut dyn Sink,
        regions: &[String],
        props: &BootstrapProps,
    ) -> Res {
        if regions.is_empty() {
            return Err(Failure::Message(
                "bootstrap: no region to bootstrap (the app has no stacks); pass --region REGION"
                    .to_string(),
            ));
        }
        for region in regions {
            let template =
                bootstrap::template(region, props).map_err(|e| Failure::Message(e.to_string()))?;
            let spec = StackSpec::new(BOOTSTRAP_STACK, region, template);
            let saved = std::mem::replace(&mut self.stacks, vec![spec]);
            let saved_dir = self.asset_dir.take();
            let opts = DeployOptions {
                // A new bucket, a lifecycle rule: no drift to look for.
                drift: DriftMode::Skip,
                ..DeployOptions::default()
            };
            let mut used = Default::default();
            let result = self
                .deploy_one(ui, BOOTSTRAP_STACK, &opts, &Default::default(), &mut used)
                .await;
            self.stacks = saved;
            self.asset_dir = saved_dir;
            result?;
            let client = self.client(region).await?;
            let info = self.bootstrap_info(&client, BOOTSTRAP_STACK).await?;
            ui.line(&format!(
                "Bootstrapped {} (account {}): assets go to s3://{} (bootstrap version {}).",
                client.region(),
                info.account,
                info.bucket,
                info.version
            ));
        }
        Ok(())
    }
}
