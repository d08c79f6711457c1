//! `spin.toml` (manifest version 2): the part of it clipwave-host runs.
//!
//! Unknown keys are errors rather than silently ignored: a manifest that
//! relies on a Spin feature this host lacks should fail here, loudly, not
//! behave differently from `spin up`.

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;

/// A parsed and checked `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The application's name.
    pub name: String,
    /// Application variables by name.
    pub variables: BTreeMap<String, VariableSpec>,
    /// HTTP triggers in manifest order (order matters for duplicate routes).
    pub http_triggers: Vec<HttpTrigger>,
    /// Components by id.
    pub components: BTreeMap<String, ComponentSpec>,
    /// The folder holding `spin.toml`; component sources are relative to it.
    pub base_dir: PathBuf,
}

/// The raw file, with Spin's key names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: u32,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, VariableSpec>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, ComponentSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    authors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

/// An application variable: a default, or `required`; maybe `secret`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    /// The value used when no provider sets one.
    #[serde(default)]
    pub default: Option<String>,
    /// Start-up fails when no provider sets a value.
    #[serde(default)]
    pub required: bool,
    /// The value must never be logged.
    #[serde(default)]
    pub secret: bool,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// Optional trigger id.
    #[serde(default)]
    pub id: Option<String>,
    /// The route pattern, or `{ private = true }`.
    pub route: RouteConfig,
    /// The id of the component that handles the route.
    pub component: String,
}

/// A trigger's `route`: a pattern, or private (reachable only by chaining).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RouteConfig {
    /// A route pattern such as `/jobs/...` or `/users/:id`.
    Pattern(String),
    /// `{ private = true }`.
    Private(PrivateRoute),
}

/// The table form of a route; only `private = true` is meaningful.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    /// Must be true.
    pub private: bool,
}

/// One `[component.<id>]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Path of the `.wasm`, relative to the manifest's folder.
    pub source: PathBuf,
    /// Key-value store labels the component may open.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// SQLite database labels the component may open.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// Outbound HTTP destinations, e.g. `http://auth.spin.internal`.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: templates over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// How `spin build` builds it; ignored when running.
    #[serde(default)]
    #[allow(dead_code)]
    pub build: Option<BuildSpec>,
}

/// `[component.<id>.build]`, accepted so the manifest is the one Spin uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BuildSpec {
    /// The build command.
    pub command: String,
    /// Its working folder.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Globs `spin watch` watches.
    #[serde(default)]
    pub watch: Vec<String>,
}

impl Manifest {
    /// Reads and checks `path`.
    ///
    /// # Errors
    /// A missing or unreadable file, invalid TOML, an unsupported key, or a
    /// reference to something that does not exist.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, base_dir).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses manifest text whose relative paths start at `base_dir`.
    pub fn parse(text: &str, base_dir: PathBuf) -> Result<Self> {
        let raw: RawManifest = toml::from_str(text)?;
        ensure!(
            raw.spin_manifest_version == 2,
            "spin_manifest_version must be 2 (found {})",
            raw.spin_manifest_version
        );
        for (name, spec) in &raw.variables {
            check_variable_name(name)?;
            match (&spec.default, spec.required) {
                (Some(_), true) => bail!("variable {name:?} is both required and has a default"),
                (None, false) => bail!("variable {name:?} needs a default or required = true"),
                _ => {}
            }
        }
        for (id, component) in &raw.component {
            check_component_id(id)?;
            for name in component.variables.keys() {
                check_variable_name(name).with_context(|| format!("in component {id:?}"))?;
            }
        }
        let mut trigger_ids = HashSet::new();
        for trigger in &raw.trigger.http {
            ensure!(
                raw.component.contains_key(&trigger.component),
                "trigger for route {:?} names unknown component {:?}",
                trigger.route,
                trigger.component
            );
            if let RouteConfig::Private(PrivateRoute { private: false }) = trigger.route {
                bail!(
                    "route must be a string pattern or '{{ private = true }}': {:?} has {{ private = false }}",
                    trigger.component
                );
            }
            if let Some(id) = &trigger.id {
                ensure!(
                    trigger_ids.insert(id.clone()),
                    "duplicate trigger id {id:?}"
                );
            }
        }
        Ok(Self {
            name: raw.application.name,
            variables: raw.variables,
            http_triggers: raw.trigger.http,
            components: raw.component,
            base_dir,
        })
    }
}

/// Spin's rule for variable names: lower-case letters, digits, underscores,
/// starting with a letter.
fn check_variable_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ensure!(
        ok,
        "invalid variable name {name:?}: use lower-case letters, digits and '_'"
    );
    Ok(())
}

/// Spin's rule for component ids: kebab-case words of lower-case letters and digits.
fn check_component_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.split('-').all(|word| {
            !word.is_empty()
                && word.starts_with(|c: char| c.is_ascii_lowercase())
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    ensure!(ok, "invalid component id {id:?}: use kebab-case");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "web"
[[trigger.http]]
route = { private = true }
component = "web"
[component.web]
source = "web.wasm"
[component.web.variables]
message = "{{ greeting }}, world"
"#;

    #[test]
    fn a_minimal_manifest_parses() {
        let manifest = Manifest::parse(MINIMAL, PathBuf::from("/app")).unwrap();
        assert_eq!(manifest.name, "t");
        assert_eq!(manifest.http_triggers.len(), 2);
        assert!(manifest.variables["token"].required);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = MINIMAL.replace(
            "[component.web]\n",
            "[component.web]\nai_models = [\"x\"]\n",
        );
        let error = Manifest::parse(&text, PathBuf::new()).unwrap_err();
        assert!(format!("{error:#}").contains("ai_models"), "{error:#}");
    }

    #[test]
    fn a_trigger_for_an_unknown_component_is_rejected() {
        let text = MINIMAL.replace(
            "component = \"web\"\n[[trigger.http]]",
            "component = \"nope\"\n[[trigger.http]]",
        );
        assert!(Manifest::parse(&text, PathBuf::new()).is_err());
    }

    #[test]
    fn a_variable_must_be_required_or_defaulted() {
        let text = MINIMAL.replace(
            "greeting = { default = \"hi\" }",
            "greeting = { secret = true }",
        );
        assert!(Manifest::parse(&text, PathBuf::new()).is_err());
    }

    #[test]
    fn bad_names_are_rejected() {
        assert!(check_variable_name("Upper").is_err());
        assert!(check_variable_name("ok_name1").is_ok());
        assert!(check_component_id("my-component2").is_ok());
        assert!(check_component_id("My_component").is_err());
        assert!(check_component_id("a--b").is_err());
    }

    #[test]
    fn the_wrong_manifest_version_is_rejected() {
        let text = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(Manifest::parse(&text, PathBuf::new()).is_err());
    }
}
