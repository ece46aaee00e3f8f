//! [`StackSets`] over the AWS SDK for Rust, on the deploy client.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    AutoDeployment, Capability, DeploymentTargets, Parameter, PermissionModels,
    RegionConcurrencyType, StackSetOperationPreferences, StackSetOperationStatus,
};

use super::{
    OperationStatus, Permissions, Preferences, Share, StackInstance, StackSetInfo, StackSetPlan,
    StackSets, Targets,
};
use crate::deploy::client::{Client, api_error};
use crate::deploy::port::DeployError;

fn preferences(p: &Preferences, regions: &[String]) -> StackSetOperationPreferences {
    let mut b = StackSetOperationPreferences::builder()
        .region_concurrency_type(if p.parallel_regions {
            RegionConcurrencyType::Parallel
        } else {
            RegionConcurrencyType::Sequential
        })
        .set_region_order(Some(p.ordered_regions(regions)));
    b = match p.max_concurrent {
        Share::Count(n) => b.max_concurrent_count(i32::try_from(n).unwrap_or(i32::MAX)),
        Share::Percent(x) => b.max_concurrent_percentage(i32::from(x)),
    };
    b = match p.failure_tolerance {
        Share::Count(n) => b.failure_tolerance_count(i32::try_from(n).unwrap_or(i32::MAX)),
        Share::Percent(x) => b.failure_tolerance_percentage(i32::from(x)),
    };
    b.build()
}

fn parameters(plan: &StackSetPlan) -> Vec<Parameter> {
    plan.parameters
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

impl StackSets for Client {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>, DeployError> {
        match self
            .sdk()
            .describe_stack_set()
            .stack_set_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(out.stack_set().map(|s| StackSetInfo {
                status: s
                    .status()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default(),
                template_body: s.template_body().unwrap_or_default().to_string(),
                parameters: s
                    .parameters()
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.parameter_key()?.to_string(),
                            p.parameter_value()?.to_string(),
                        ))
                    })
                    .collect::<BTreeMap<_, _>>(),
            })),
            Err(e) if e.code() == Some("StackSetNotFoundException") => Ok(None),
            Err(e) => Err(api_error(name, "DescribeStackSet", e)),
        }
    }

    async fn create_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<(), DeployError> {
        let mut req = self
            .sdk()
            .create_stack_set()
            .stack_set_name(&plan.name)
            .description(&plan.description)
            .template_body(template_body)
            .set_parameters(Some(parameters(plan)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        req = match &plan.permissions {
            Permissions::ServiceManaged { auto_deployment } => req
                .permission_model(PermissionModels::ServiceManaged)
                .auto_deployment(
                    AutoDeployment::builder()
                        .enabled(*auto_deployment)
                        .retain_stacks_on_account_removal(false)
                        .build(),
                ),
            Permissions::SelfManaged {
                administration_role_arn,
                execution_role_name,
            } => req
                .permission_model(PermissionModels::SelfManaged)
                .set_administration_role_arn(administration_role_arn.clone())
                .set_execution_role_name(execution_role_name.clone()),
        };
        req.send()
            .await
            .map_err(|e| api_error(&plan.name, "CreateStackSet", e))?;
        Ok(())
    }

    async fn update_stack_set(
        &self,
        plan: &StackSetPlan,
        template_body: &str,
    ) -> Result<String, DeployError> {
        let out = self
            .sdk()
            .update_stack_set()
            .stack_set_name(&plan.name)
            .description(&plan.description)
            .template_body(template_body)
            .set_parameters(Some(parameters(plan)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .operation_preferences(preferences(&plan.preferences, &plan.targets.regions))
            .send()
            .await
            .map_err(|e| api_error(&plan.name, "UpdateStackSet", e))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    async fn create_stack_instances(
        &self,
        plan: &StackSetPlan,
        targets: &Targets,
    ) -> Result<String, DeployError> {
        let mut req = self
            .sdk()
            .create_stack_instances()
            .stack_set_name(&plan.name)
            .set_regions(Some(targets.regions.clone()))
            .operation_preferences(preferences(&plan.preferences, &targets.regions));
        req = match plan.permissions {
            Permissions::ServiceManaged { .. } => req.deployment_targets(
                DeploymentTargets::builder()
                    .set_organizational_unit_ids(Some(targets.organizational_units.clone()))
                    .build(),
            ),
            Permissions::SelfManaged { .. } => req.set_accounts(Some(targets.accounts.clone())),
        };
        let out = req
            .send()
            .await
            .map_err(|e| api_error(&plan.name, "CreateStackInstances", e))?;
        Ok(out.operation_id().unwrap_or_default().to_string())
    }

    async fn operation_status(
        &self,
        name: &str,
        operation_id: &str,
    ) -> Result<OperationStatus, DeployError> {
        let out = self
            .sdk()
            .describe_stack_set_operation()
            .stack_set_name(name)
            .operation_id(operation_id)
            .send()
            .await
            .map_err(|e| api_error(name, "DescribeStackSetOperation", e))?;
        let op = out.stack_set_operation();
        let reason = op
            .and_then(|o| o.status_reason())
            .unwrap_or("no reason given")
            .to_string();
        Ok(match op.and_then(|o| o.status()) {
            Some(StackSetOperationStatus::Succeeded) => OperationStatus::Succeeded,
            Some(StackSetOperationStatus::Failed) => OperationStatus::Failed(reason),
            Some(StackSetOperationStatus::Stopped) => OperationStatus::Stopped,
            _ => OperationStatus::Running,
        })
    }

    async fn list_stack_instances(&self, name: &str) -> Result<Vec<StackInstance>, DeployError> {
        let mut pages = self
            .sdk()
            .list_stack_instances()
            .stack_set_name(name)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error(name, "ListStackInstances", e))?;
            for s in page.summaries() {
                out.push(StackInstance {
                    account: s.account().unwrap_or_default().to_string(),
                    region: s.region().unwrap_or_default().to_string(),
                    organizational_unit: s.organizational_unit_id().map(str::to_string),
                    status: s
                        .status()
                        .map(|x| x.as_str().to_string())
                        .unwrap_or_default(),
                    detailed_status: s
                        .stack_instance_status()
                        .and_then(|d| d.detailed_status())
                        .map(|d| d.as_str().to_string()),
                    reason: s.status_reason().map(str::to_string),
                });
            }
        }
        Ok(out)
    }
}
