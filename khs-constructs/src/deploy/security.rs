//! Security-broadening changes: new ingress from anywhere, new IAM and
//! resource-policy statements. Listed before a deployment and, for
//! production stacks, only executed with `--approve` (or an interactive yes).

use std::collections::BTreeSet;

use serde_json::Value;

/// One change that widens access.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecurityChange {
    /// The resource that carries it.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// What it opens, in one line.
    pub description: String,
}

/// The changes in `new` that widen access compared with `old` (`None` for a
/// new stack, where everything is new).
pub fn security_broadening(old: Option<&Value>, new: &Value) -> Vec<SecurityChange> {
    let mut out = Vec::new();
    let Some(resources) = new.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, entry) in resources {
        let ty = entry
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let old_entry = old
            .and_then(|t| t.get("Resources"))
            .and_then(|r| r.get(id))
            .filter(|o| o.get("Type").and_then(Value::as_str) == Some(ty));
        let before: BTreeSet<(String, String)> =
            old_entry.map(|o| grants(ty, o)).unwrap_or_default();
        for (key, description) in grants(ty, entry) {
            if !before.iter().any(|(k, _)| *k == key) {
                out.push(SecurityChange {
                    logical_id: id.clone(),
                    type_name: ty.to_string(),
                    description,
                });
            }
        }
    }
    out.sort();
    out
}

const OPEN_V4: &str = "0.0.0.0/0";
const OPEN_V6: &str = "::/0";

/// (canonical key, description) of every access grant of a resource.
fn grants(type_name: &str, entry: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let null = Value::Null;
    let props = entry.get("Properties").unwrap_or(&null);
    match type_name {
        "AWS::EC2::SecurityGroup" => {
            if let Some(rules) = props.get("SecurityGroupIngress").and_then(Value::as_array) {
                for rule in rules {
                    open_ingress(rule, &mut out);
                }
            }
        }
        "AWS::EC2::SecurityGroupIngress" => open_ingress(props, &mut out),
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            if let Some(policies) = props.get("Policies").and_then(Value::as_array) {
                for p in policies {
                    statements("IAM", p.get("PolicyDocument"), &mut out);
                }
            }
            statements("trust", props.get("AssumeRolePolicyDocument"), &mut out);
            if let Some(arns) = props.get("ManagedPolicyArns").and_then(Value::as_array) {
                for arn in arns {
                    let s = compact(arn);
                    out.insert((
                        format!("managed:{s}"),
                        format!("attaches managed policy {s}"),
                    ));
                }
            }
        }
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy" => {
            statements("IAM", props.get("PolicyDocument"), &mut out);
        }
        "AWS::S3::BucketPolicy"
        | "AWS::SNS::TopicPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SecretsManager::ResourcePolicy" => {
            let doc = props
                .get("PolicyDocument")
                .or_else(|| props.get("ResourcePolicy"));
            statements("resource policy", doc, &mut out);
        }
        "AWS::KMS::Key" => statements("key policy", props.get("KeyPolicy"), &mut out),
        "AWS::Lambda::Permission" => {
            let principal = props.get("Principal").map(compact).unwrap_or_default();
            out.insert((
                format!("lambda:{}", compact(props)),
                format!("lets {principal} invoke the function"),
            ));
        }
        _ => {}
    }
    out
}

fn open_ingress(rule: &Value, out: &mut BTreeSet<(String, String)>) {
    let cidr = rule
        .get("CidrIp")
        .and_then(Value::as_str)
        .filter(|c| *c == OPEN_V4)
        .or_else(|| {
            rule.get("CidrIpv6")
                .and_then(Value::as_str)
                .filter(|c| *c == OPEN_V6)
        });
    let Some(cidr) = cidr else {
        return;
    };
    let proto = rule.get("IpProtocol").map(compact).unwrap_or_default();
    let from = rule.get("FromPort").map(compact);
    let to = rule.get("ToPort").map(compact);
    let ports = match (from, to) {
        (Some(a), Some(b)) if a == b => format!("port {a}"),
        (Some(a), Some(b)) => format!("ports {a}-{b}"),
        _ => "all ports".to_string(),
    };
    let proto = if proto == "-1" {
        "all protocols".to_string()
    } else {
        proto
    };
    out.insert((
        format!("ingress:{}", compact(rule)),
        format!("opens {ports} ({proto}) to {cidr}"),
    ));
}

fn statements(kind: &str, doc: Option<&Value>, out: &mut BTreeSet<(String, String)>) {
    let Some(doc) = doc else {
        return;
    };
    let list = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return,
    };
    for s in list {
        let key = format!("{kind}:{}", compact(&s));
        let effect = s.get("Effect").and_then(Value::as_str).unwrap_or("Allow");
        if effect == "Deny" {
            continue;
        }
        let field = |k: &str| s.get(k).map(compact);
        let mut d = format!("adds {kind} statement {effect}");
        if let Some(p) = field("Principal") {
            d.push_str(&format!(" principal {p}"));
        }
        if let Some(a) = field("Action") {
            d.push_str(&format!(" {a}"));
        }
        if let Some(r) = field("Resource") {
            d.push_str(&format!(" on {r}"));
        }
        if field("Condition").is_some() {
            d.push_str(" (with conditions)");
        }
        out.insert((key, d));
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.len() == 1 => compact(&a[0]),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sg(ingress: Value) -> Value {
        json!({"Resources": {"LbSg": {"Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "lb", "SecurityGroupIngress": ingress}}}})
    }

    #[test]
    fn new_ingress_from_anywhere_is_listed() {
        let old = sg(
            json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]),
        );
        let new = sg(json!([
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/16"}
        ]));
        let found = security_broadening(Some(&old), &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].logical_id, "LbSg");
        assert_eq!(found[0].description, "opens port 22 (tcp) to 0.0.0.0/0");
        assert!(security_broadening(Some(&new), &new).is_empty());
    }

    #[test]
    fn standalone_ipv6_ingress_is_listed() {
        let new = json!({"Resources": {"R": {"Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"IpProtocol": "-1", "CidrIpv6": "::/0", "GroupId": "sg-1"}}}});
        let found = security_broadening(None, &new);
        assert_eq!(
            found[0].description,
            "opens all ports (all protocols) to ::/0"
        );
    }

    #[test]
    fn new_iam_statements_are_listed() {
        let role = |stmts: Value| {
            json!({"Resources": {"TaskRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": stmts}}]}}}})
        };
        let read =
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let write = json!({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"});
        let old = role(json!([read]));
        let new = role(json!([read, write]));
        let found = security_broadening(Some(&old), &new);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].description,
            "adds IAM statement Allow s3:PutObject on *"
        );
        // A brand-new role lists its trust and its permissions.
        assert_eq!(security_broadening(None, &new).len(), 3);
    }

    #[test]
    fn deny_statements_do_not_broaden() {
        let new = json!({"Resources": {"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "PolicyDocument": {"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}}}}}});
        assert!(security_broadening(None, &new).is_empty());
    }
}
