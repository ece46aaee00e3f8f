//! An in-memory StackSets service for the engine's unit tests: an
//! organisation of units and accounts, stack sets, their instances and
//! operations that run for a given number of polls.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use super::{
    OperationStatus, Permissions, StackInstance, StackSetInfo, StackSetPlan, StackSets, Targets,
};
use crate::deploy::port::DeployError;

#[derive(Debug, Default)]
struct Set {
    body: String,
    parameters: BTreeMap<String, String>,
    instances: BTreeMap<(String, String), StackInstance>,
}

#[derive(Debug, Default)]
struct State {
    sets: BTreeMap<String, Set>,
    /// Operation id → (polls left before it ends, failure reason).
    operations: BTreeMap<String, (u32, Option<String>)>,
    calls: Vec<String>,
}

/// The fake. Accounts of the organisation are given per unit.
#[derive(Debug, Default)]
pub struct FakeStackSets {
    state: RefCell<State>,
    /// The accounts of each organizational unit.
    pub units: BTreeMap<String, Vec<String>>,
    /// How many polls an operation reports `Running` before it ends.
    pub polls: u32,
    /// Accounts whose instances fail (the operation then fails).
    pub failing_accounts: BTreeSet<String>,
}

impl FakeStackSets {
    /// An organisation with these units and their accounts, whose
    /// operations run for `polls` polls.
    pub fn new(units: BTreeMap<String, Vec<String>>, polls: u32) -> Self {
        FakeStackSets {
            units,
            polls,
            ..FakeStackSets::default()
        }
    }

    /// The calls made, in order (`CreateStackSet name`, …).
    pub fn calls(&self) -> Vec<String> {
        self.state.borrow().calls.clone()
    }

    /// The deployed template of a stack set.
    pub fn template(&self, name: &str) -> Option<String> {
        self.state.borrow().sets.get(name).map(|s| s.body.clone())
    }

    fn start(&self, st: &mut State, failure: Option<String>) -> String {
        let id = format!("op-{}", st.operations.len() + 1);
        st.operations.insert(id.clone(), (self.polls, failure));
        id
    }
}

impl StackSets for FakeStackSets {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>, DeployError> {
        let st = self.state.borrow();
        Ok(st.sets.get(name).map(|s| StackSetInfo {
            status: "ACTIVE".to_string(),
            template_body: s.body.clone(),
            parameters: s.parameters.clone(),
        }))
    }

    async fn create_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<(), DeployError> {
        let mut st = self.state.borrow_mut();
        st.calls.push(format!("CreateStackSet {}", plan.name));
        st.sets.insert(
            plan.name.clone(),
            Set {
                body: template_body.to_string(),
                parameters: plan.parameters.clone(),
                instances: BTreeMap::new(),
            },
        );
        Ok(())
    }

    async fn update_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<String, DeployError> {
        let mut st = self.state.borrow_mut();
        st.calls.push(format!("UpdateStackSet {}", plan.name));
        let Some(set) = st.sets.get_mut(&plan.name) else {
            return Err(DeployError::api_message(
                &plan.name,
                "UpdateStackSet",
                "StackSetNotFoundException: no such stack set",
            ));
        };
        set.body = template_body.to_string();
        set.parameters = plan.parameters.clone();
        let mut failure = None;
        for i in set.instances.values_mut() {
            if self.failing_accounts.contains(&i.account) {
                i.status = "OUTDATED".into();
                i.detailed_status = Some("FAILED".into());
                i.reason = Some("Resource handler returned message: boom".into());
                failure = Some(format!("the instance in {} {} failed", i.account, i.region));
            } else {
                i.status = "CURRENT".into();
                i.detailed_status = Some("SUCCEEDED".into());
            }
        }
        Ok(self.start(&mut st, failure))
    }

    async fn create_stack_instances(
        &self,
        plan: &StackSetPlan,
        targets: &Targets,
    ) -> Result<String, DeployError> {
        let mut st = self.state.borrow_mut();
        st.calls.push(format!(
            "CreateStackInstances {} {:?} {:?} {:?}",
            plan.name, targets.organizational_units, targets.accounts, targets.regions
        ));
        let mut wanted: Vec<(String, Option<String>)> =
            targets.accounts.iter().map(|a| (a.clone(), None)).collect();
        if matches!(plan.permissions, Permissions::ServiceManaged { .. }) {
            for u in &targets.organizational_units {
                for a in self.units.get(u).into_iter().flatten() {
                    wanted.push((a.clone(), Some(u.clone())));
                }
            }
        }
        let mut failure = None;
        let Some(set) = st.sets.get_mut(&plan.name) else {
            return Err(DeployError::api_message(
                &plan.name,
                "CreateStackInstances",
                "StackSetNotFoundException: no such stack set",
            ));
        };
        for r in &targets.regions {
            for (a, unit) in &wanted {
                let failed = self.failing_accounts.contains(a);
                if failed {
                    failure = Some(format!("the instance in {a} {r} failed"));
                }
                set.instances
                    .entry((a.clone(), r.clone()))
                    .or_insert_with(|| StackInstance {
                        account: a.clone(),
                        region: r.clone(),
                        organizational_unit: unit.clone(),
                        status: if failed { "OUTDATED" } else { "CURRENT" }.into(),
                        detailed_status: Some(if failed { "FAILED" } else { "SUCCEEDED" }.into()),
                        reason: failed.then(|| "Resource handler returned message: boom".into()),
                    });
            }
        }
        Ok(self.start(&mut st, failure))
    }

    async fn operation_status(
        &self,
        _name: &str,
        operation_id: &str,
    ) -> Result<OperationStatus, DeployError> {
        let mut st = self.state.borrow_mut();
        let Some((left, failure)) = st.operations.get_mut(operation_id) else {
            return Err(DeployError::api_message(
                operation_id,
                "DescribeStackSetOperation",
                "OperationNotFoundException: no such operation",
            ));
        };
        if *left > 0 {
            *left -= 1;
            return Ok(OperationStatus::Running);
        }
        Ok(match failure {
            Some(reason) => OperationStatus::Failed(reason.clone()),
            None => OperationStatus::Succeeded,
        })
    }

    async fn list_stack_instances(&self, name: &str) -> Result<Vec<StackInstance>, DeployError> {
        let st = self.state.borrow();
        Ok(st
            .sets
            .get(name)
            .map(|s| s.instances.values().cloned().collect())
            .unwrap_or_default())
    }
}
