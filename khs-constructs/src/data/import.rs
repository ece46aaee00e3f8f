//! Databases and caches that exist already: [`Database::import`] and
//! [`Cache::import`].
//!
//! # One reference type for owned and imported stores
//!
//! An owned [`Database`] holds the handles of everything it created (the
//! instance, its replicas, its key, its rotation); an imported one has none
//! of these, only what a client needs: an endpoint, a port, a security
//! group and the secret holding the credentials. Both produce the same
//! value, a [`DatabaseRef`] ([`Database::reference`], [`Database::import`]),
//! named like the library's other references ([`BucketRef`],
//! [`CertificateRef`], [`RepositoryRef`]). Code that wires a database into a
//! service takes a `&DatabaseRef` and works with either; its methods are
//! named as the [`Database`]'s own (`endpoint_address`, `port`,
//! `connections`, `credentials`, `connection_url`). The same holds for
//! [`CacheRef`]. ([`Network::import`](crate::network::Network::import)
//! returns a `Network` instead: every construct placed in a network needs
//! its whole shape, subnets and zones, which an import has in full.)
//!
//! # Imported stores are never modified
//!
//! Nothing is added to the stack by an import. Its [`Connections`] are
//! those of an imported group: `allow_from` on them is an error; a service
//! reaches the store with
//! `service.connections().allow_default_port_to(&mut stack, db.connections())`,
//! which writes the egress rule on the service's own group only (the store's
//! owner admits the service's group), or with the explicit
//! [`Connections::allow_from_on_imported_group`] and a reason. The
//! credentials are only read ([`Secret::grant_read`] on their ARN).
//!
//! [`BucketRef`]: crate::storage::BucketRef
//! [`CertificateRef`]: crate::network::CertificateRef
//! [`RepositoryRef`]: crate::compute::RepositoryRef
//!
//! ```
//! use khs_constructs::prelude::*;
//! use khs_constructs::data::{DatabaseEngine, DatabaseImport};
//!
//! let mut stack = Stack::new("orders", StackProps::new(Environment::region("us-east-1"))).unwrap();
//! let db = Database::import(&mut stack, "Orders", DatabaseImport {
//!     database_name: Some("orders".to_string()),
//!     ..DatabaseImport::new(
//!         DatabaseEngine::Postgres,
//!         "orders.abc123.us-east-1.rds.amazonaws.com",
//!         "sg-0123456789abcdef0",
//!         "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf",
//!     )
//! }).unwrap();
//! assert!(db.is_imported());
//! assert_eq!(db.port(), 5432);
//! assert!(stack.template().resources.is_empty());
//! ```

use crate::core::error::{Error, Result};
use crate::core::intrinsic::Intrinsic;
use crate::core::path::ConstructPath;
use crate::core::scope::AsScope;
use crate::core::value::Value;
use crate::network::connections::{Connections, Port};
use crate::network::vpc::import::{KEY_ARN, SECRET_ARN, check_arn, check_host, check_port};
use crate::security::iam::PolicyDocument;
use crate::security::kms::EncryptionKey;
use crate::security::secrets::Secret;

use super::cache::{Cache, REDIS_PORT};
use super::database::{Database, POSTGRES_PORT};

/// The MySQL port.
pub const MYSQL_PORT: u16 = 3306;

/// The engine of a database (what its clients speak).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseEngine {
    /// PostgreSQL (the engine of [`Database`]).
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl DatabaseEngine {
    /// The engine's default port (5432, 3306).
    pub fn default_port(self) -> u16 {
        match self {
            DatabaseEngine::Postgres => POSTGRES_PORT,
            DatabaseEngine::MySql => MYSQL_PORT,
        }
    }

    fn url(self, user: Option<&str>, database: Option<&str>, port: u16) -> String {
        let user = user.map(|u| format!("{u}@")).unwrap_or_default();
        let db = database.map(|d| format!("/{d}")).unwrap_or_default();
        match self {
            DatabaseEngine::Postgres => {
                format!("postgresql://{user}${{Endpoint}}:{port}{db}?sslmode=require")
            }
            DatabaseEngine::MySql => {
                format!("mysql://{user}${{Endpoint}}:{port}{db}?ssl-mode=REQUIRED")
            }
        }
    }
}

/// What a client of a database needs: produced by [`Database::reference`]
/// (a database of the app) and [`Database::import`] (one that exists
/// already). Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseRef {
    path: ConstructPath,
    engine: DatabaseEngine,
    endpoint_address: Value<String>,
    port: u16,
    connections: Connections,
    credentials: Secret,
    database_name: Option<String>,
    username: Option<String>,
}

impl DatabaseRef {
    /// The construct path (of the database, or of the import).
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// Whether the database exists outside the app: nothing of it is in
    /// the stack and nothing of it is modified.
    pub fn is_imported(&self) -> bool {
        self.connections.is_imported()
    }

    /// The engine.
    pub fn engine(&self) -> DatabaseEngine {
        self.engine
    }

    /// The primary's DNS name.
    pub fn endpoint_address(&self) -> Value<String> {
        self.endpoint_address.clone()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The security group and default port (see the module docs for what
    /// an imported group allows).
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The secret holding the credentials (JSON with `username` and
    /// `password`, as RDS and Secrets Manager rotation write it).
    pub fn credentials(&self) -> &Secret {
        &self.credentials
    }

    /// The database name, when known.
    pub fn database_name(&self) -> Option<&str> {
        self.database_name.as_deref()
    }

    /// `postgresql://[<user>@]<endpoint>:<port>[/<db>]?sslmode=require`
    /// (`mysql://…?ssl-mode=REQUIRED` for MySQL), without the password (it
    /// reaches the service as a secret).
    pub fn connection_url(&self) -> Value<String> {
        Intrinsic::sub_with(
            self.engine.url(
                self.username.as_deref(),
                self.database_name.as_deref(),
                self.port,
            ),
            [("Endpoint", self.endpoint_address())],
        )
        .into()
    }

    /// Adds to `policy` what reading the credentials takes:
    /// `secretsmanager:GetSecretValue` on the secret and `kms:Decrypt` on
    /// its key through Secrets Manager (when the key is a customer managed
    /// one). ECS services get this on their execution role from their
    /// `ContainerSecret`s already.
    pub fn grant_read_credentials(&self, policy: &mut PolicyDocument) {
        self.credentials.grant_read(policy);
    }
}

/// What [`Database::import`] needs to know about an existing database.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseImport {
    /// The engine.
    pub engine: DatabaseEngine,
    /// The primary's DNS name (or a value such as an import).
    pub endpoint_address: Value<String>,
    /// The port (1..=65535).
    ///
    /// Default: - the engine's ([`DatabaseEngine::default_port`]).
    pub port: u16,
    /// The database's security group (`sg-…`, or a value).
    pub security_group_id: Value<String>,
    /// The full ARN of the secret holding the credentials, in the stack's
    /// region (or a value).
    pub credentials_secret_arn: Value<String>,
    /// The ARN of the customer managed KMS key encrypting the secret.
    ///
    /// Default: - the AWS managed key `aws/secretsmanager` (no key grant).
    pub credentials_key_arn: Option<Value<String>>,
    /// The database name (a letter, then letters, digits and `_`), used in
    /// [`DatabaseRef::connection_url`].
    ///
    /// Default: - none (the URL names no database).
    pub database_name: Option<String>,
    /// The user name in [`DatabaseRef::connection_url`].
    ///
    /// Default: - none (clients read it from the secret's `username`).
    pub username: Option<String>,
}

impl DatabaseImport {
    /// An import with the engine's default port and every optional field
    /// at its default.
    pub fn new(
        engine: DatabaseEngine,
        endpoint_address: impl Into<Value<String>>,
        security_group_id: impl Into<Value<String>>,
        credentials_secret_arn: impl Into<Value<String>>,
    ) -> Self {
        DatabaseImport {
            engine,
            endpoint_address: endpoint_address.into(),
            port: engine.default_port(),
            security_group_id: security_group_id.into(),
            credentials_secret_arn: credentials_secret_arn.into(),
            credentials_key_arn: None,
            database_name: None,
            username: None,
        }
    }
}

fn check_name(path: &ConstructPath, prop: &str, name: Option<&str>) -> Result<()> {
    if let Some(n) = name {
        let ok = n.len() <= 63
            && n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(Error::invalid_prop(
                path,
                prop,
                format!(
                    "must be 1..=63 letters, digits and '_', starting with a letter, got {n:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// The secret (and its key) of an import, below `scope/id`; the ARNs are
/// checked first under the import's own path and field names.
fn imported_secret(
    scope: &mut impl AsScope,
    id: &str,
    (arn, arn_prop): (Value<String>, &str),
    (key_arn, key_prop): (Option<Value<String>>, &str),
) -> Result<Secret> {
    let mut s = scope.as_scope();
    let path = s.path().clone();
    check_arn(&path, arn_prop, &arn, &SECRET_ARN, s.env())?;
    if let Some(k) = &key_arn {
        check_arn(&path, key_prop, k, &KEY_ARN, s.env())?;
    }
    let key = match key_arn {
        Some(k) => Some(EncryptionKey::import(&mut s, &format!("{id}Key"), k)?),
        None => None,
    };
    Secret::import(&mut s, id, arn, key)
}

impl Database {
    /// A database that exists already (another stack's, another team's):
    /// nothing is added to the stack and it is never modified (see the
    /// [module docs](crate::data::import)). The endpoint must be a DNS name,
    /// the security group `sg-…`, the secret's ARN a Secrets Manager ARN in
    /// the stack's region; values such as `scope.import_external(…)` are
    /// accepted anywhere and checked by CloudFormation.
    pub fn import(
        scope: &mut impl AsScope,
        id: &str,
        props: DatabaseImport,
    ) -> Result<DatabaseRef> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        check_host(&path, "endpoint_address", &props.endpoint_address)?;
        check_port(&path, "port", props.port)?;
        check_name(&path, "database_name", props.database_name.as_deref())?;
        check_name(&path, "username", props.username.as_deref())?;
        let connections = Connections::import(
            path.clone(),
            props.security_group_id,
            Some(Port::tcp(props.port)),
        )?;
        let credentials = imported_secret(
            &mut me,
            "Credentials",
            (props.credentials_secret_arn, "credentials_secret_arn"),
            (props.credentials_key_arn, "credentials_key_arn"),
        )?;
        Ok(DatabaseRef {
            path,
            engine: props.engine,
            endpoint_address: props.endpoint_address,
            port: props.port,
            connections,
            credentials,
            database_name: props.database_name,
            username: props.username,
        })
    }

    /// The reference other code takes (the same type as an import's).
    pub fn reference(&self) -> DatabaseRef {
        DatabaseRef {
            path: self.path().clone(),
            engine: DatabaseEngine::Postgres,
            endpoint_address: self.endpoint_address(),
            port: self.port(),
            connections: self.connections().clone(),
            credentials: self.credentials().clone(),
            database_name: Some(self.database_name().to_string()),
            username: Some(self.master_username().to_string()),
        }
    }
}

/// What a client of a Redis cache needs: produced by [`Cache::reference`]
/// and [`Cache::import`]. Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheRef {
    path: ConstructPath,
    endpoint_address: Value<String>,
    reader_endpoint_address: Option<Value<String>>,
    port: u16,
    tls: bool,
    connections: Connections,
    auth_token: Option<Secret>,
}

impl CacheRef {
    /// The construct path.
    pub fn path(&self) -> &ConstructPath {
        &self.path
    }

    /// Whether the cache exists outside the app.
    pub fn is_imported(&self) -> bool {
        self.connections.is_imported()
    }

    /// The primary endpoint's DNS name.
    pub fn endpoint_address(&self) -> Value<String> {
        self.endpoint_address.clone()
    }

    /// The reader endpoint's DNS name, when known.
    pub fn reader_endpoint_address(&self) -> Option<Value<String>> {
        self.reader_endpoint_address.clone()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether clients must speak TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The security group and default port.
    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    /// The AUTH token secret, when the cache has one.
    pub fn auth_token(&self) -> Option<&Secret> {
        self.auth_token.as_ref()
    }

    /// `rediss://<endpoint>:<port>` (`redis://` without TLS), without the
    /// token (it reaches the service as a secret).
    pub fn connection_url(&self) -> Value<String> {
        let scheme = if self.tls { "rediss" } else { "redis" };
        Intrinsic::sub_with(
            format!("{scheme}://${{Endpoint}}:{}", self.port),
            [("Endpoint", self.endpoint_address())],
        )
        .into()
    }
}

/// What [`Cache::import`] needs to know about an existing Redis cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheImport {
    /// The primary endpoint's DNS name (or a value).
    pub endpoint_address: Value<String>,
    /// The reader endpoint's DNS name.
    ///
    /// Default: - none.
    pub reader_endpoint_address: Option<Value<String>>,
    /// The port (1..=65535).
    ///
    /// Default: `6379`.
    pub port: u16,
    /// The cache's security group (`sg-…`, or a value).
    pub security_group_id: Value<String>,
    /// Whether the cache encrypts in transit (clients speak TLS). A cache
    /// with an AUTH token always does.
    ///
    /// Default: `true`.
    pub tls: bool,
    /// The full ARN of the secret holding the AUTH token, in the stack's
    /// region.
    ///
    /// Default: - no token.
    pub auth_token_secret_arn: Option<Value<String>>,
    /// The ARN of the customer managed KMS key encrypting that secret.
    ///
    /// Default: - the AWS managed key `aws/secretsmanager`.
    pub auth_token_key_arn: Option<Value<String>>,
}

impl CacheImport {
    /// An import of the cache at `endpoint_address` behind
    /// `security_group_id`, port 6379, TLS, no token.
    pub fn new(
        endpoint_address: impl Into<Value<String>>,
        security_group_id: impl Into<Value<String>>,
    ) -> Self {
        CacheImport {
            endpoint_address: endpoint_address.into(),
            reader_endpoint_address: None,
            port: REDIS_PORT,
            security_group_id: security_group_id.into(),
            tls: true,
            auth_token_secret_arn: None,
            auth_token_key_arn: None,
        }
    }
}

impl Cache {
    /// A Redis cache that exists already: nothing is added to the stack and
    /// it is never modified (see the [module docs](crate::data::import)).
    pub fn import(scope: &mut impl AsScope, id: &str, props: CacheImport) -> Result<CacheRef> {
        let mut parent = scope.as_scope();
        let mut me = parent.child(id)?;
        let path = me.path().clone();
        check_host(&path, "endpoint_address", &props.endpoint_address)?;
        if let Some(r) = &props.reader_endpoint_address {
            check_host(&path, "reader_endpoint_address", r)?;
        }
        check_port(&path, "port", props.port)?;
        if props.auth_token_secret_arn.is_some() && !props.tls {
            return Err(Error::invalid_prop(
                &path,
                "tls",
                "must be true when auth_token_secret_arn is set (ElastiCache accepts an AUTH token only with encryption in transit), got false",
            ));
        }
        if props.auth_token_key_arn.is_some() && props.auth_token_secret_arn.is_none() {
            return Err(Error::invalid_prop(
                &path,
                "auth_token_key_arn",
                "is set without auth_token_secret_arn; give the token's secret too, or leave the key out",
            ));
        }
        let connections = Connections::import(
            path.clone(),
            props.security_group_id,
            Some(Port::tcp(props.port)),
        )?;
        let auth_token = match props.auth_token_secret_arn {
            Some(arn) => Some(imported_secret(
                &mut me,
                "AuthToken",
                (arn, "auth_token_secret_arn"),
                (props.auth_token_key_arn, "auth_token_key_arn"),
            )?),
            None => None,
        };
        Ok(CacheRef {
            path,
            endpoint_address: props.endpoint_address,
            reader_endpoint_address: props.reader_endpoint_address,
            port: props.port,
            tls: props.tls,
            connections,
            auth_token,
        })
    }

    /// The reference other code takes (the same type as an import's).
    pub fn reference(&self) -> CacheRef {
        CacheRef {
            path: self.path().clone(),
            endpoint_address: self.endpoint_address(),
            reader_endpoint_address: Some(self.reader_endpoint_address()),
            port: self.port(),
            tls: true,
            connections: self.connections().clone(),
            auth_token: Some(self.auth_token().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::security::iam::PolicyDocument;
    use crate::test_support::stack_with_network;
    use serde_json::json;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn stack() -> Stack {
        Stack::new("orders", StackProps::new(Environment::region("us-east-1"))).unwrap()
    }

    fn db_props() -> DatabaseImport {
        DatabaseImport::new(
            DatabaseEngine::Postgres,
            "orders.abc123.us-east-1.rds.amazonaws.com",
            "sg-0123456789abcdef0",
            SECRET,
        )
    }

    fn db_err(f: impl FnOnce(DatabaseImport) -> DatabaseImport) -> String {
        Database::import(&mut stack(), "Orders", f(db_props()))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_imported_database_adds_nothing_and_reads_its_secret() {
        let mut s = stack();
        let db = Database::import(
            &mut s,
            "Orders",
            DatabaseImport {
                credentials_key_arn: Some(KEY.into()),
                database_name: Some("orders".into()),
                username: Some("app".into()),
                ..db_props()
            },
        )
        .unwrap();
        assert!(db.is_imported() && db.credentials().is_imported());
        assert!(s.template().resources.is_empty());
        assert_eq!(db.engine(), DatabaseEngine::Postgres);
        assert_eq!(db.port(), 5432);
        assert_eq!(db.connections().default_port(), Some(Port::tcp(5432)));
        assert_eq!(db.database_name(), Some("orders"));
        assert_eq!(
            serde_json::to_value(db.connection_url()).unwrap(),
            json!({"Fn::Sub": ["postgresql://app@${Endpoint}:5432/orders?sslmode=require",
                {"Endpoint": "orders.abc123.us-east-1.rds.amazonaws.com"}]})
        );
        let mut policy = PolicyDocument::default();
        db.grant_read_credentials(&mut policy);
        let j = serde_json::to_value(policy.to_json()).unwrap();
        assert_eq!(j["Statement"][0]["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(
            j["Statement"][0]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf"})
        );
        assert_eq!(j["Statement"][1]["Action"], "kms:Decrypt");
        assert_eq!(
            j["Statement"][1]["Resource"],
            json!({"Fn::Sub": "arn:${AWS::Partition}:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"})
        );
    }

    #[test]
    fn without_a_key_only_the_secret_is_granted() {
        let db = Database::import(&mut stack(), "Orders", db_props()).unwrap();
        let mut policy = PolicyDocument::default();
        db.grant_read_credentials(&mut policy);
        assert_eq!(policy.statements.len(), 1);
        assert_eq!(
            serde_json::to_value(db.connection_url()).unwrap()["Fn::Sub"][0],
            "postgresql://${Endpoint}:5432?sslmode=require"
        );
    }

    #[test]
    fn a_mysql_import_uses_its_port_and_scheme() {
        let db = Database::import(
            &mut stack(),
            "Legacy",
            DatabaseImport::new(
                DatabaseEngine::MySql,
                "legacy.abc123.us-east-1.rds.amazonaws.com",
                "sg-0123456789abcdef0",
                SECRET,
            ),
        )
        .unwrap();
        assert_eq!(db.port(), 3306);
        assert_eq!(
            serde_json::to_value(db.connection_url()).unwrap()["Fn::Sub"][0],
            "mysql://${Endpoint}:3306?ssl-mode=REQUIRED"
        );
    }

    #[test]
    fn an_owned_database_gives_the_same_reference_type() {
        let (mut s, network) = stack_with_network();
        let db = Database::new(&mut s, "Database", &network, DatabaseProps::default()).unwrap();
        let r = db.reference();
        assert!(!r.is_imported());
        assert_eq!(r.endpoint_address(), db.endpoint_address());
        assert_eq!(r.connection_url(), db.connection_url());
        assert_eq!(r.connections(), db.connections());
        assert_eq!(r.credentials(), db.credentials());
        assert_eq!(r.database_name(), Some("app"));
    }

    #[test]
    fn fails_when_database_import_values_are_malformed() {
        assert_eq!(
            db_err(|p| DatabaseImport {
                endpoint_address: "orders db".into(),
                ..p
            }),
            "orders/Orders: endpoint_address must be a DNS name such as \"orders.abc123.us-east-1.rds.amazonaws.com\" (or a value such as an import), got \"orders db\""
        );
        assert_eq!(
            db_err(|p| DatabaseImport { port: 0, ..p }),
            "orders/Orders: port must be a port in 1..=65535, got 0"
        );
        assert_eq!(
            db_err(|p| DatabaseImport {
                security_group_id: "sg-xyz".into(),
                ..p
            }),
            "orders/Orders: security_group_id must be an id like \"sg-0123456789abcdef0\" (or a value such as an import), got \"sg-xyz\""
        );
        assert_eq!(
            db_err(|p| DatabaseImport {
                database_name: Some("1orders".into()),
                ..p
            }),
            "orders/Orders: database_name must be 1..=63 letters, digits and '_', starting with a letter, got \"1orders\""
        );
        assert_eq!(
            db_err(|p| DatabaseImport {
                credentials_secret_arn: "arn:aws:ssm:us-east-1:123456789012:parameter/db".into(),
                ..p
            }),
            "orders/Orders: credentials_secret_arn must be an ARN like \"arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf\" (service secretsmanager, a region, a 12-digit account, resource secret:…), got \"arn:aws:ssm:us-east-1:123456789012:parameter/db\""
        );
        assert_eq!(
            db_err(|p| DatabaseImport {
                credentials_secret_arn:
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf".into(),
                ..p
            }),
            "orders/Orders: credentials_secret_arn must be in the stack's region us-east-1 (the read grant names Secrets Manager of the stack's region; replicate the secret into it), got eu-west-1 in \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-AbCdEf\""
        );
        assert_eq!(
            db_err(|p| DatabaseImport {
                credentials_key_arn: Some("arn:aws:kms:us-east-1:123456789012:alias/db".into()),
                ..p
            }),
            "orders/Orders: credentials_key_arn must be an ARN like \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\" (service kms, a region, a 12-digit account, resource key/…), got \"arn:aws:kms:us-east-1:123456789012:alias/db\""
        );
    }

    #[test]
    fn values_from_other_stacks_or_tools_are_accepted_unchecked() {
        let mut s = stack();
        let (endpoint, sg, secret) = {
            let mut root = s.as_scope();
            (
                root.import_external("shared-db:Endpoint").unwrap(),
                root.import_external("shared-db:SecurityGroup").unwrap(),
                root.import_external("shared-db:Secret").unwrap(),
            )
        };
        let db = Database::import(
            &mut s,
            "Orders",
            DatabaseImport::new(DatabaseEngine::Postgres, endpoint, sg, secret),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(db.connections().security_group_id()).unwrap(),
            json!({"Fn::ImportValue": "shared-db:SecurityGroup"})
        );
    }

    fn cache_err(f: impl FnOnce(CacheImport) -> CacheImport) -> String {
        Cache::import(
            &mut stack(),
            "Sessions",
            f(CacheImport::new(
                "master.sessions.abc123.use1.cache.amazonaws.com",
                "sg-0123456789abcdef0",
            )),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn an_imported_cache_adds_nothing_and_speaks_tls() {
        let mut s = stack();
        let cache = Cache::import(
            &mut s,
            "Sessions",
            CacheImport {
                auth_token_secret_arn: Some(SECRET.into()),
                ..CacheImport::new(
                    "master.sessions.abc123.use1.cache.amazonaws.com",
                    "sg-0123456789abcdef0",
                )
            },
        )
        .unwrap();
        assert!(s.template().resources.is_empty());
        assert!(cache.is_imported() && cache.tls());
        assert_eq!(cache.connections().default_port(), Some(Port::tcp(6379)));
        assert!(cache.auth_token().is_some_and(Secret::is_imported));
        assert_eq!(
            serde_json::to_value(cache.connection_url()).unwrap()["Fn::Sub"][0],
            "rediss://${Endpoint}:6379"
        );
        let plain = Cache::import(
            &mut s,
            "Plain",
            CacheImport {
                tls: false,
                port: 6380,
                ..CacheImport::new("plain.abc123.use1.cache.amazonaws.com", "sg-0abc")
            },
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(plain.connection_url()).unwrap()["Fn::Sub"][0],
            "redis://${Endpoint}:6380"
        );
    }

    #[test]
    fn an_owned_cache_gives_the_same_reference_type() {
        let (mut s, network) = stack_with_network();
        let cache = Cache::new(&mut s, "Cache", &network, CacheProps::default()).unwrap();
        let r = cache.reference();
        assert!(!r.is_imported() && r.tls());
        assert_eq!(r.connection_url(), cache.connection_url());
        assert_eq!(r.auth_token(), Some(cache.auth_token()));
    }

    #[test]
    fn fails_when_cache_import_values_are_inconsistent() {
        assert_eq!(
            cache_err(|p| CacheImport {
                tls: false,
                auth_token_secret_arn: Some(SECRET.into()),
                ..p
            }),
            "orders/Sessions: tls must be true when auth_token_secret_arn is set (ElastiCache accepts an AUTH token only with encryption in transit), got false"
        );
        assert_eq!(
            cache_err(|p| CacheImport {
                auth_token_key_arn: Some(KEY.into()),
                ..p
            }),
            "orders/Sessions: auth_token_key_arn is set without auth_token_secret_arn; give the token's secret too, or leave the key out"
        );
        assert_eq!(
            cache_err(|p| CacheImport {
                reader_endpoint_address: Some("-bad.example".into()),
                ..p
            }),
            "orders/Sessions: reader_endpoint_address must be a DNS name such as \"orders.abc123.us-east-1.rds.amazonaws.com\" (or a value such as an import), got \"-bad.example\""
        );
        assert_eq!(
            cache_err(|p| CacheImport {
                auth_token_secret_arn: Some(
                    "arn:aws:secretsmanager:us-east-1:1234:secret:x".into()
                ),
                ..p
            }),
            "orders/Sessions: auth_token_secret_arn must be an ARN like \"arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf\" (service secretsmanager, a region, a 12-digit account, resource secret:…), got \"arn:aws:secretsmanager:us-east-1:1234:secret:x\""
        );
    }
}
