//! Monitoring: alert topics, CloudWatch alarms, a dashboard and X-Ray.
//!
//! - [`AlertTopics`]: the `alerts-critical` and `alerts-warning` SNS topics,
//!   encrypted with a customer managed KMS key whose policy lets CloudWatch
//!   (and AWS Budgets) publish, optional e-mail subscriptions, and topic
//!   policies that allow only those services (from this account) and TLS.
//! - [`Alarm`]: one typed CloudWatch alarm (period, statistic, comparison and
//!   missing-data handling checked before anything is emitted).
//! - [`Dashboard`]: a CloudWatch dashboard built from typed [`GraphWidget`]s;
//!   the body is generated JSON wrapped in `Fn::Sub`, so dimension values may
//!   be references to resources of the stack.
//! - [`Tracing`]: an X-Ray sampling rule and group for one service.
//! - [`Monitoring`]: the alarms, dashboard and tracing of a load-balanced
//!   service with its database and cache, wired to an [`AlertTopics`].
//!
//! Why a customer managed key: CloudWatch alarms cannot publish to a topic
//! encrypted with the AWS managed key `alias/aws/sns`, because its key
//! policy cannot be changed to let `cloudwatch.amazonaws.com` use it. The
//! messages would be dropped without an error.
//!
//! What CloudWatch cannot do: an alarm that adds a read replica (a runbook
//! item some teams write as "AutoScaling: add-read-replica"). An alarm action can only notify
//! SNS, scale an EC2 Auto Scaling group or an Application Auto Scaling
//! target, or act on an EC2 instance; creating an RDS read replica is none of
//! these. The alarm notifies the warning topic; adding a replica stays a
//! runbook step (or a subscriber function outside this library).

mod alarm;
mod dashboard;
mod metric;
mod set;
mod topics;
mod tracing;

pub use alarm::*;
pub use dashboard::*;
pub use metric::*;
pub use set::*;
pub use topics::*;
pub use tracing::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn;
    use crate::core::scope::AsScope;
    use crate::core::stack::{Environment, Stack, StackProps};
    use serde_json::{Value as J, json};

    fn stack() -> Stack {
        Stack::new(
            "khs-test",
            StackProps::new(Environment::region("us-east-1")),
        )
        .unwrap()
    }

    fn template(stack: &Stack) -> J {
        serde_json::to_value(stack.synth().unwrap()).unwrap()
    }

    fn of_type<'a>(t: &'a J, ty: &str) -> Vec<(&'a String, &'a J)> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == ty)
            .collect()
    }

    struct Watched {
        lb: LoadBalancerMetrics,
        db: DatabaseMetrics,
        cache: CacheMetrics,
        svc: ServiceMetrics,
    }

    fn watched(stack: &mut Stack) -> Watched {
        use cfn::elasticloadbalancingv2 as elb;
        let mut s = stack.as_scope();
        let lb = s
            .add(
                "Lb",
                elb::LoadBalancer {
                    subnets: Some(vec!["subnet-1", "subnet-2"].into()),
                    ..elb::LoadBalancer::new()
                },
            )
            .unwrap();
        let tg = s.add("Tg", elb::TargetGroup::new()).unwrap();
        let db = s.add("Db", cfn::rds::DbInstance::new()).unwrap();
        let rg = s
            .add("Cache", cfn::elasticache::ReplicationGroup::new("cache"))
            .unwrap();
        let cluster = s.add("Cluster", cfn::ecs::Cluster::new()).unwrap();
        let svc = s.add("Service", cfn::ecs::Service::new()).unwrap();
        Watched {
            lb: LoadBalancerMetrics::from_handles(&lb, &tg),
            db: DatabaseMetrics {
                allocated_storage_gib: Some(100),
                ..DatabaseMetrics::from_handle(&db)
            },
            cache: CacheMetrics::from_replication_group(&rg, 2),
            svc: ServiceMetrics::from_handles(&cluster, &svc),
        }
    }

    fn full(stack: &mut Stack) -> (AlertTopics, Monitoring) {
        let w = watched(stack);
        let alerts = AlertTopics::new(
            stack,
            "Alerts",
            AlertTopicsProps {
                critical_emails: vec!["oncall@example.com".into()],
                ..AlertTopicsProps::default()
            },
        )
        .unwrap();
        let m = Monitoring::new(
            stack,
            "Monitoring",
            MonitoringProps {
                load_balancer: Some(w.lb),
                database: Some(w.db),
                cache: Some(w.cache),
                service: Some(w.svc),
                tracing: Some(TracingProps::new("KHS-CRM-API")),
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        (alerts, m)
    }

    #[test]
    fn alert_topics_are_encrypted_with_a_key_cloudwatch_and_budgets_may_use() {
        let mut st = stack();
        let (alerts, _) = full(&mut st);
        let t = template(&st);
        let topics = of_type(&t, "AWS::SNS::Topic");
        assert_eq!(topics.len(), 2);
        let key_id = alerts.key().logical_id().as_str();
        for (_, topic) in &topics {
            assert_eq!(
                topic["Properties"]["KmsMasterKeyId"],
                json!({"Fn::GetAtt": [key_id, "Arn"]})
            );
        }
        assert_eq!(
            t["Resources"]["AlertsCritical"]["Properties"]["TopicName"],
            "khs-test-alerts-critical"
        );
        assert_eq!(
            t["Resources"]["AlertsWarning"]["Properties"]["TopicName"],
            "khs-test-alerts-warning"
        );
        let key = &t["Resources"][key_id]["Properties"];
        assert_eq!(key["EnableKeyRotation"], true);
        let services: Vec<&J> = key["KeyPolicy"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Principal"].get("Service"))
            .collect();
        assert_eq!(
            services,
            vec![
                &json!("cloudwatch.amazonaws.com"),
                &json!("budgets.amazonaws.com")
            ]
        );
        let policy = &t["Resources"]["AlertsWarningPolicy"]["Properties"];
        let st0 = &policy["PolicyDocument"]["Statement"];
        assert_eq!(st0[0]["Principal"]["Service"], "cloudwatch.amazonaws.com");
        assert_eq!(st0[0]["Resource"], json!({"Ref": "AlertsWarning"}));
        assert_eq!(st0[1]["Principal"]["Service"], "budgets.amazonaws.com");
        assert_eq!(st0[2]["Effect"], "Deny");
        let subs = of_type(&t, "AWS::SNS::Subscription");
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].1["Properties"]["Protocol"], "email");
        assert_eq!(subs[0].1["Properties"]["Endpoint"], "oncall@example.com");
        assert_eq!(
            subs[0].1["Properties"]["TopicArn"],
            json!({"Ref": "AlertsCritical"})
        );
        assert!(crate::security::iam::check_template(&t).is_empty());
    }

    #[test]
    fn budgets_can_be_left_out_of_the_key_and_topic_policies() {
        let mut st = stack();
        AlertTopics::new(
            &mut st,
            "Alerts",
            AlertTopicsProps {
                allow_budgets: false,
                name_prefix: Some("khs".into()),
                ..AlertTopicsProps::default()
            },
        )
        .unwrap();
        let t = template(&st);
        assert!(!t.to_string().contains("budgets.amazonaws.com"));
        assert_eq!(
            t["Resources"]["AlertsKeyAlias"]["Properties"]["AliasName"],
            "alias/khs-alerts"
        );
    }

    #[test]
    fn seed_alarms_have_the_seed_figures() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let p = |id: &str| {
            let lid = m.alarm(id).unwrap().handle().logical_id().to_string();
            t["Resources"][lid]["Properties"].clone()
        };
        let e = p("HighErrorRate");
        assert_eq!(e["MetricName"], "HTTPCode_Target_5XX_Count");
        assert_eq!(e["Namespace"], "AWS/ApplicationELB");
        assert_eq!(e["Statistic"], "Sum");
        assert_eq!(e["Threshold"], 10.0);
        assert_eq!(e["Period"], 300);
        assert_eq!(e["EvaluationPeriods"], 2);
        assert_eq!(e["ComparisonOperator"], "GreaterThanThreshold");
        assert_eq!(e["TreatMissingData"], "notBreaching");
        assert_eq!(e["AlarmActions"], json!([{"Ref": "AlertsCritical"}]));
        assert_eq!(e["OKActions"], json!([{"Ref": "AlertsCritical"}]));
        assert_eq!(e["AlarmName"], "khs-test-HighErrorRate");
        assert_eq!(
            e["Dimensions"],
            json!([{"Name": "LoadBalancer", "Value": {"Fn::GetAtt": ["Lb", "LoadBalancerFullName"]}}])
        );
        let l = p("HighLatency");
        assert_eq!(l["MetricName"], "TargetResponseTime");
        assert_eq!(l["Statistic"], "Average");
        assert_eq!(l["Threshold"], 1.0);
        assert_eq!(l["EvaluationPeriods"], 3);
        assert_eq!(l["AlarmActions"], json!([{"Ref": "AlertsWarning"}]));
        let c = p("DatabaseCpu");
        assert_eq!(c["Namespace"], "AWS/RDS");
        assert_eq!(c["MetricName"], "CPUUtilization");
        assert_eq!(c["Threshold"], 80.0);
        assert_eq!(c["EvaluationPeriods"], 2);
        assert_eq!(c["Period"], 300);
        assert_eq!(
            c["Dimensions"],
            json!([{"Name": "DBInstanceIdentifier", "Value": {"Ref": "Db"}}])
        );
        assert_eq!(c["AlarmActions"], json!([{"Ref": "AlertsWarning"}]));
        let n = p("NoHealthyHosts");
        assert_eq!(n["ComparisonOperator"], "LessThanThreshold");
        assert_eq!(n["Dimensions"][1]["Name"], "TargetGroup");
        let cache = p("CacheEngineCpu2");
        assert_eq!(
            cache["Dimensions"][0]["Value"],
            json!({"Fn::Sub": ["${Group}-002", {"Group": {"Ref": "Cache"}}]})
        );
        let ids: Vec<&str> = m.alarms().iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            ids,
            [
                "HighErrorRate",
                "HighLatency",
                "UnhealthyHosts",
                "NoHealthyHosts",
                "ServiceCpu",
                "ServiceMemory",
                "DatabaseCpu",
                "DatabaseFreeStorage",
                "CacheEngineCpu1",
                "CacheEngineCpu2",
                "CacheMemory1",
                "CacheMemory2"
            ]
        );
    }

    #[test]
    fn dashboard_shows_the_seed_widgets() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let lid = m.dashboard().unwrap().handle().logical_id().to_string();
        let d = &t["Resources"][lid]["Properties"];
        assert_eq!(d["DashboardName"], "khs-test");
        let sub = d["DashboardBody"]["Fn::Sub"].as_array().unwrap();
        let body: J = serde_json::from_str(sub[0].as_str().unwrap()).unwrap();
        let vars = &sub[1];
        let widgets = body["widgets"].as_array().unwrap();
        // The title defaults to the construct path.
        assert!(
            widgets[0]["properties"]["markdown"]
                .as_str()
                .unwrap()
                .starts_with("# khs-test/Monitoring\n"),
            "{}",
            widgets[0]
        );
        let metric = |ns: &str, name: &str| -> (String, u64) {
            for w in widgets {
                for m in w["properties"]["metrics"].as_array().into_iter().flatten() {
                    let m = m.as_array().unwrap();
                    if m[0] == ns && m[1] == name {
                        let o = m.last().unwrap();
                        return (
                            o["stat"].as_str().unwrap().to_string(),
                            o["period"].as_u64().unwrap(),
                        );
                    }
                }
            }
            panic!("{ns} {name} not on the dashboard");
        };
        assert_eq!(
            metric("AWS/ApplicationELB", "RequestCount"),
            ("Sum".into(), 300)
        );
        assert_eq!(
            metric("AWS/ApplicationELB", "TargetResponseTime"),
            ("Average".into(), 300)
        );
        assert_eq!(
            metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
            ("Sum".into(), 300)
        );
        assert_eq!(
            metric("AWS/RDS", "DatabaseConnections"),
            ("Average".into(), 300)
        );
        assert_eq!(
            metric("AWS/ElastiCache", "CacheHitRate"),
            ("Average".into(), 300)
        );
        assert_eq!(widgets[1]["properties"]["region"], "${AWS::Region}");
        assert_eq!(widgets[1]["properties"]["metrics"][0][3], "${D0}");
        assert_eq!(
            vars["D0"],
            json!({"Fn::GetAtt": ["Lb", "LoadBalancerFullName"]})
        );
        // Laid out on the 24-column grid without overlap.
        for w in widgets {
            assert!(w["x"].as_u64().unwrap() + w["width"].as_u64().unwrap() <= 24);
        }
        assert_eq!(
            (widgets[1]["x"].as_u64(), widgets[1]["y"].as_u64()),
            (Some(0), Some(2))
        );
        assert_eq!(
            (widgets[2]["x"].as_u64(), widgets[2]["y"].as_u64()),
            (Some(12), Some(2))
        );
    }

    #[test]
    fn dashboard_escapes_literal_placeholders() {
        let mut st = stack();
        Dashboard::new(
            &mut st,
            "Dash",
            DashboardProps::new(vec![Widget::Text(TextWidget::new("cost ${x}"))]),
        )
        .unwrap();
        let t = template(&st);
        let body = t["Resources"]["DashResource"]["Properties"]["DashboardBody"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(body.contains("cost ${!x}"), "{body}");
    }

    #[test]
    fn tracing_has_a_sampling_rule_and_group_for_the_api_segment() {
        let mut st = stack();
        let (_, m) = full(&mut st);
        let t = template(&st);
        let tr = m.tracing().unwrap();
        let rule = &t["Resources"][tr.rule().logical_id().as_str()]["Properties"]["SamplingRule"];
        assert_eq!(rule["ServiceName"], "KHS-CRM-API");
        assert_eq!(rule["RuleName"], "KHS-CRM-API");
        assert_eq!(rule["FixedRate"], 0.05);
        assert_eq!(rule["Version"], 1);
        let g = &t["Resources"][tr.group().logical_id().as_str()]["Properties"];
        assert_eq!(g["FilterExpression"], "service(\"KHS-CRM-API\")");
        assert_eq!(g["InsightsConfiguration"]["InsightsEnabled"], true);
    }

    #[test]
    fn only_watched_parts_get_alarms() {
        let mut st = stack();
        let w = watched(&mut st);
        let alerts = AlertTopics::new(&mut st, "Alerts", AlertTopicsProps::default()).unwrap();
        let m = Monitoring::new(
            &mut st,
            "Monitoring",
            MonitoringProps {
                database: Some(w.db),
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        assert_eq!(m.alarms().len(), 2);
        assert!(m.dashboard().is_some());
        assert!(m.tracing().is_none());
    }

    #[test]
    fn free_storage_is_relative_to_the_allocated_storage_or_absolute() {
        let mut st = stack();
        let w = watched(&mut st);
        let alerts = AlertTopics::new(&mut st, "Alerts", AlertTopicsProps::default()).unwrap();
        let threshold = |m: &Monitoring| {
            m.alarm("DatabaseFreeStorage")
                .map(|a| a.threshold())
                .expect("free storage alarm")
        };
        let relative = Monitoring::new(
            &mut st,
            "Relative",
            MonitoringProps {
                database: Some(w.db.clone()),
                thresholds: AlarmThresholds {
                    database_free_storage: FreeStorage::PercentOfAllocated(25.0),
                    ..AlarmThresholds::default()
                },
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        assert_eq!(threshold(&relative), 25.0 * 1024.0 * 1024.0 * 1024.0);
        let absolute = Monitoring::new(
            &mut st,
            "Absolute",
            MonitoringProps {
                database: Some(w.db.clone()),
                thresholds: AlarmThresholds {
                    database_free_storage: FreeStorage::Bytes(5e9),
                    ..AlarmThresholds::default()
                },
                ..MonitoringProps::new(&alerts)
            },
        )
        .unwrap();
        assert_eq!(threshold(&absolute), 5e9);
        let unknown = Monitoring::new(
            &mut st,
            "Unknown",
            MonitoringProps {
                database: Some(DatabaseMetrics {
                    allocated_storage_gib: None,
                    ..w.db
                }),
                ..MonitoringProps::new(&alerts)
            },
        )
        .expect_err("relative threshold without the allocated storage")
        .to_string();
        assert!(
            unknown.contains("khs-test/Unknown")
                && unknown.contains("thresholds.database_free_storage")
                && unknown
                    .contains("PercentOfAllocated(10) needs the database's allocated storage"),
            "{unknown}"
        );
    }

    fn alarm_err(p: AlarmProps) -> String {
        let mut st = stack();
        Alarm::new(&mut st, "Bad", p).unwrap_err().to_string()
    }

    fn metric() -> Metric {
        Metric::new("AWS/RDS", "CPUUtilization")
    }

    #[test]
    fn fails_when_period_is_not_one_cloudwatch_accepts() {
        for p in [0, 5, 20, 45, 90, 61] {
            let m = alarm_err(AlarmProps::new(
                metric().period(p),
                ComparisonOperator::GreaterThan,
                1.0,
                1,
            ));
            assert!(m.starts_with("khs-test/Bad: metric.period_seconds"), "{m}");
            assert!(m.contains(&format!("got {p}")), "{m}");
        }
        for p in [10, 30, 60, 300, 3600] {
            let mut st = stack();
            Alarm::new(
                &mut st,
                "Ok",
                AlarmProps::new(metric().period(p), ComparisonOperator::GreaterThan, 1.0, 1),
            )
            .unwrap();
        }
    }

    #[test]
    fn fails_when_evaluation_periods_is_zero() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            1.0,
            0,
        ));
        assert!(
            m.starts_with("khs-test/Bad: evaluation_periods must be at least 1, got 0"),
            "{m}"
        );
    }

    #[test]
    fn fails_when_the_evaluation_range_exceeds_a_day() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            1.0,
            289,
        ));
        assert!(m.starts_with("khs-test/Bad: evaluation_periods"), "{m}");
        assert!(m.contains("86400"), "{m}");
        // Hour-long periods may span a week.
        let mut st = stack();
        Alarm::new(
            &mut st,
            "Week",
            AlarmProps::new(
                metric().period(3600),
                ComparisonOperator::GreaterThan,
                1.0,
                168,
            ),
        )
        .unwrap();
    }

    #[test]
    fn fails_when_datapoints_to_alarm_exceed_the_periods() {
        let m = alarm_err(AlarmProps {
            datapoints_to_alarm: Some(4),
            ..AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 3)
        });
        assert!(
            m.starts_with("khs-test/Bad: datapoints_to_alarm must be 1..=3"),
            "{m}"
        );
    }

    #[test]
    fn fails_when_threshold_is_not_finite() {
        let m = alarm_err(AlarmProps::new(
            metric(),
            ComparisonOperator::GreaterThan,
            f64::NAN,
            1,
        ));
        assert!(m.starts_with("khs-test/Bad: threshold"), "{m}");
    }

    #[test]
    fn fails_when_a_percent_threshold_is_above_100() {
        let m = alarm_err(AlarmProps::new(
            Metric::new("AWS/RDS", "CPUUtilization"),
            ComparisonOperator::GreaterThan,
            800.0,
            1,
        ));
        assert_eq!(
            m,
            "khs-test/Bad: threshold must be 0..=100 for AWS/RDS CPUUtilization (a percentage), got 800"
        );
    }

    #[test]
    fn fails_when_an_aws_metric_name_has_no_typed_metric() {
        let m = alarm_err(AlarmProps::new(
            Metric::new("AWS/RDS", "CpuUtilisation"),
            ComparisonOperator::GreaterThan,
            80.0,
            1,
        ));
        assert!(
            m.starts_with("khs-test/Bad: metric.name must be a metric of AWS/RDS that a typed metric has (CPUUtilization, "),
            "{m}"
        );
        assert!(m.ends_with("got \"CpuUtilisation\""), "{m}");
        // Custom namespaces are the application's own.
        let mut s = Stack::new(
            "khs-test",
            StackProps::new(Environment::region("us-east-1")),
        )
        .unwrap();
        Alarm::new(
            &mut s,
            "Custom",
            AlarmProps::new(
                Metric::new("Orders", "QueueDepth"),
                ComparisonOperator::GreaterThan,
                1000.0,
                1,
            ),
        )
        .unwrap();
    }

    #[test]
    fn fails_when_percentile_is_out_of_range() {
        let m = alarm_err(AlarmProps::new(
            metric().statistic(Statistic::Percentile(100.0)),
            ComparisonOperator::GreaterThan,
            1.0,
            1,
        ));
        assert!(m.starts_with("khs-test/Bad: metric.statistic"), "{m}");
        let mut st = stack();
        Alarm::new(
            &mut st,
            "P99",
            AlarmProps::new(
                metric().statistic(Statistic::Percentile(99.0)),
                ComparisonOperator::GreaterThan,
                1.0,
                1,
            ),
        )
        .unwrap();
        let t = template(&st);
        assert_eq!(
            t["Resources"]["P99Resource"]["Properties"]["ExtendedStatistic"],
            "p99"
        );
        assert!(
            t["Resources"]["P99Resource"]["Properties"]
                .get("Statistic")
                .is_none()
        );
    }

    #[test]
    fn fails_when_a_metric_has_too_many_dimensions() {
        let mut m = metric();
        for i in 0..31 {
            m = m.dimension(format!("D{i}"), "x");
        }
        let e = alarm_err(AlarmProps::new(m, ComparisonOperator::GreaterThan, 1.0, 1));
        assert!(e.starts_with("khs-test/Bad: metric.dimensions"), "{e}");
    }

    #[test]
    fn fails_when_names_or_descriptions_are_too_long_or_empty() {
        let base = || AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 1);
        let cases: Vec<(AlarmProps, &str)> = vec![
            (
                AlarmProps {
                    alarm_name: Some("a".repeat(256)),
                    ..base()
                },
                "alarm_name must be 1..=255 characters, got 256",
            ),
            (
                AlarmProps {
                    description: Some("d".repeat(1025)),
                    ..base()
                },
                "description must be at most 1024 characters, got 1025",
            ),
            (
                AlarmProps::new(
                    Metric::new("", "CPUUtilization"),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.namespace must be 1..=255 characters",
            ),
            (
                AlarmProps::new(
                    Metric::new(":AWS/RDS", "CPUUtilization"),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.namespace must not start with ':'",
            ),
            (
                AlarmProps::new(
                    Metric::new("AWS/RDS", ""),
                    ComparisonOperator::GreaterThan,
                    1.0,
                    1,
                ),
                "metric.name must be 1..=255 characters",
            ),
        ];
        for (p, needle) in cases {
            let e = alarm_err(p);
            assert!(e.starts_with("khs-test/Bad: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn fails_when_an_alarm_notifies_more_than_five_topics() {
        let mut st = stack();
        let topics: Vec<crate::messaging::import::TopicRef> = (0..6)
            .map(|i| {
                let h = st
                    .as_scope()
                    .add(&format!("T{i}"), cfn::sns::Topic::new())
                    .unwrap();
                let path = st.as_scope().path().child(&format!("T{i}")).unwrap();
                crate::messaging::import::TopicRef::from_handle(&h, path, None)
            })
            .collect();
        let e = Alarm::new(
            &mut st,
            "Bad",
            AlarmProps {
                notify: topics,
                ..AlarmProps::new(metric(), ComparisonOperator::GreaterThan, 1.0, 1)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("khs-test/Bad: notify takes at most 5 topics, got 6"),
            "{e}"
        );
    }

    #[test]
    fn fails_when_an_email_is_malformed() {
        for bad in ["ops", "ops@localhost", "@example.com", "o ps@example.com"] {
            let mut st = stack();
            let e = AlertTopics::new(
                &mut st,
                "Alerts",
                AlertTopicsProps {
                    warning_emails: vec![bad.into()],
                    ..AlertTopicsProps::default()
                },
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("khs-test/Alerts: warning_emails[0] must be an e-mail"),
                "{e}"
            );
        }
    }

    #[test]
    fn fails_when_name_prefix_is_invalid() {
        let mut st = stack();
        let e = AlertTopics::new(
            &mut st,
            "Alerts",
            AlertTopicsProps {
                name_prefix: Some("khs crm".into()),
                ..AlertTopicsProps::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("khs-test/Alerts: name_prefix"), "{e}");
    }

    #[test]
    fn fails_when_dashboard_props_are_invalid() {
        let graph = |w: u32| {
            Widget::Graph(GraphWidget {
                width: w,
                ..GraphWidget::new("g", vec![metric()])
            })
        };
        let cases: Vec<(DashboardProps, &str)> = vec![
            (
                DashboardProps::new(vec![]),
                "widgets must list at least one widget",
            ),
            (
                DashboardProps::new(vec![graph(25)]),
                "widgets[0].width must be 1..=24",
            ),
            (DashboardProps::new(vec![graph(0)]), "widgets[0].width"),
            (
                DashboardProps::new(vec![Widget::Graph(GraphWidget::new("g", vec![]))]),
                "widgets[0].metrics must list at least one metric",
            ),
            (
                DashboardProps::new(vec![Widget::Graph(GraphWidget::new(
                    "g",
                    vec![metric().period(7)],
                ))]),
                "widgets[0].metrics[0].period_seconds",
            ),
            (
                DashboardProps {
                    dashboard_name: Some("my dashboard".into()),
                    ..DashboardProps::new(vec![graph(12)])
                },
                "dashboard_name must be",
            ),
        ];
        for (props, needle) in cases {
            let mut st = stack();
            let e = Dashboard::new(&mut st, "Dash", props)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("khs-test/Dash: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn fails_when_tracing_props_are_invalid() {
        let cases: Vec<(TracingProps, &str)> = vec![
            (
                TracingProps {
                    fixed_rate: 1.5,
                    ..TracingProps::new("api")
                },
                "fixed_rate must be between 0 and 1, got 1.5",
            ),
            (
                TracingProps {
                    priority: 0,
                    ..TracingProps::new("api")
                },
                "priority must be 1..=9999, got 0",
            ),
            (
                TracingProps::new("a-service-name-longer-than-32-chars"),
                "rule_name must be 1..=32 characters",
            ),
            (
                TracingProps {
                    group_name: Some(String::new()),
                    ..TracingProps::new("api")
                },
                "group_name must be 1..=32 characters",
            ),
            (TracingProps::new("a\"b"), "service_name must not contain"),
            (
                TracingProps {
                    url_path: String::new(),
                    ..TracingProps::new("api")
                },
                "url_path",
            ),
        ];
        for (props, needle) in cases {
            let mut st = stack();
            let e = Tracing::new(&mut st, "Tracing", props)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("khs-test/Tracing: "), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }
}
