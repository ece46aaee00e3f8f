//! The accounts of an app's stacks: each stack's client has the
//! credentials of its account, and a deployment checks every account's
//! credentials before it starts anything.

use super::{Engine, Failure, Res, StackSpec};
use crate::deploy::environments::ENVIRONMENTS_FILE;
use crate::deploy::port::{Connector, DeployError};

impl<K: Connector> Engine<K> {
    /// The account of the app's stack `name` (`None`: not in the app, or
    /// no account given).
    pub(super) fn account_of(&self, name: &str) -> Option<String> {
        self.stacks
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.account.clone())
    }

    /// A client for a stack of the app: its region, its account's
    /// credentials; credentials of another account are refused, naming
    /// the stack.
    pub(super) async fn client_of(&mut self, spec: &StackSpec) -> Res<K::Client> {
        match self
            .connector
            .connect_in(spec.account.as_deref(), &spec.region)
            .await
        {
            Ok(c) => Ok(c),
            Err(e @ DeployError::WrongAccount { .. }) => Err(wrong_account(&[spec], &e)),
            Err(e) => Err(e.into()),
        }
    }

    /// Connects every stack of `selected` (so each account's credentials
    /// are found and checked) before anything is deployed; a mismatch
    /// names every stack of that account.
    pub(super) async fn check_accounts(&mut self, selected: &[String]) -> Res {
        let specs: Vec<StackSpec> = self
            .stacks
            .iter()
            .filter(|s| selected.contains(&s.name))
            .cloned()
            .collect();
        for spec in &specs {
            match self
                .connector
                .connect_in(spec.account.as_deref(), &spec.region)
                .await
            {
                Ok(_) => {}
                Err(e @ DeployError::WrongAccount { .. }) => {
                    let same: Vec<&StackSpec> =
                        specs.iter().filter(|s| s.account == spec.account).collect();
                    return Err(wrong_account(&same, &e));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

fn wrong_account(stacks: &[&StackSpec], e: &DeployError) -> Failure {
    let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
    let account = stacks
        .first()
        .and_then(|s| s.account.clone())
        .unwrap_or_default();
    Failure::Message(format!(
        "{}: deploy{} to account {account}, but {e}; nothing was deployed. Give the account its \
         credentials in {ENVIRONMENTS_FILE} ([accounts.\"{account}\"] profile = \"…\" or \
         role_arn = \"…\"), or pass --profile-for {account}=PROFILE or --role-for \
         {account}=ROLE_ARN",
        names.join(", "),
        if names.len() == 1 { "s" } else { "" }
    ))
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use serde_json::json;

    use crate::deploy::engine::{Cancel, DeployOptions, DriftMode, Engine, ParamInput, StackSpec};
    use crate::deploy::fake::{FakeCloud, Transcript};

    use super::*;

    fn stack(name: &str, account: Option<&str>, region: &str) -> StackSpec {
        let t = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic",
            "Metadata": {"khs:path": format!("{name}/Topic")}}}});
        let mut s = StackSpec::new(name, region, t);
        s.account = account.map(str::to_string);
        s
    }

    fn run(cloud: &FakeCloud) -> (Transcript, Res) {
        let stacks = vec![
            stack("shared", None, "us-west-2"),
            stack("prod-eu", Some("111111111111"), "eu-west-1"),
            stack("prod-us", Some("111111111111"), "us-east-1"),
            stack("staging", Some("222222222222"), "us-east-1"),
        ];
        let mut e = Engine::new(stacks, cloud.clone(), Cancel::new());
        e.poll = std::time::Duration::ZERO;
        let opts = DeployOptions {
            concurrency: 2,
            skip_forecast: true,
            drift: DriftMode::Skip,
            ..DeployOptions::default()
        };
        let mut out = Transcript::default();
        let r = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(e.deploy(&mut out, &[], &opts, &ParamInput::default()));
        (out, r)
    }

    #[test]
    fn each_stack_connects_with_its_accounts_credentials() {
        let cloud = FakeCloud::new();
        let (out, r) = run(&cloud);
        assert!(r.is_ok(), "{r:?}\n{}", out.text());
        let connects = cloud.calls_of("Connect");
        for want in [
            "Connect us-west-2",
            "Connect eu-west-1 111111111111",
            "Connect us-east-1 111111111111",
            "Connect us-east-1 222222222222",
        ] {
            assert!(connects.iter().any(|c| c == want), "{want}: {connects:#?}");
        }
    }

    #[test]
    fn fails_before_anything_is_deployed_when_credentials_are_another_accounts() {
        let cloud = FakeCloud::new();
        cloud
            .world
            .borrow_mut()
            .caller_accounts
            .insert("111111111111".to_string(), "999999999999".to_string());
        let (out, r) = run(&cloud);
        let Err(Failure::Message(m)) = r else {
            panic!("not refused: {r:?}\n{}", out.text());
        };
        assert_eq!(
            m,
            "prod-eu, prod-us: deploy to account 111111111111, but the credentials for account \
             111111111111 (profile of 111111111111) are those of account 999999999999 \
             (GetCallerIdentity); nothing was deployed. Give the account its credentials in \
             .khs/environments.toml ([accounts.\"111111111111\"] profile = \"…\" or role_arn = \
             \"…\"), or pass --profile-for 111111111111=PROFILE or --role-for \
             111111111111=ROLE_ARN"
        );
        assert!(cloud.calls_of("CreateChangeSet").is_empty());
        assert!(cloud.calls_of("ExecuteChangeSet").is_empty());
    }
}
