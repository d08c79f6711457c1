//! Application and component variables, resolved the way Spin resolves them.
//!
//! Application variables take their value from `SPIN_VARIABLE_<NAME>` in the
//! host's environment, else from their `default`; a `required` one with no
//! value stops start-up with an error naming it. Component variables are
//! templates (`"{{ name }}"`, literal text around it allowed) over them; a
//! component sees only its own.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Context, Result};

use crate::manifest::Manifest;

/// Each component's resolved variables.
#[derive(Debug, Clone, Default)]
pub struct ResolvedVariables {
    by_component: HashMap<String, BTreeMap<String, String>>,
}

impl ResolvedVariables {
    /// Resolves every component's variables, reading overrides through `env`.
    ///
    /// # Errors
    /// A required variable without a value, or a template naming a variable
    /// the application does not declare.
    pub fn resolve(manifest: &Manifest, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut app = BTreeMap::new();
        for (name, spec) in &manifest.variables {
            let value = env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()))
                .or_else(|| spec.default.clone());
            match value {
                Some(value) => {
                    app.insert(name.clone(), value);
                }
                None => bail!(
                    "variable {name:?} is required but has no value (set SPIN_VARIABLE_{})",
                    name.to_ascii_uppercase()
                ),
            }
        }
        let mut by_component = HashMap::new();
        for (id, component) in &manifest.components {
            let mut resolved = BTreeMap::new();
            for (name, template) in &component.variables {
                let value = expand(template, &app)
                    .with_context(|| format!("component {id:?} variable {name:?}"))?;
                resolved.insert(name.clone(), value);
            }
            by_component.insert(id.clone(), resolved);
        }
        Ok(Self { by_component })
    }

    /// The variables one component may read.
    pub fn for_component(&self, id: &str) -> BTreeMap<String, String> {
        self.by_component.get(id).cloned().unwrap_or_default()
    }
}

/// Expands `{{ name }}` references in `template`.
fn expand(template: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            bail!("unterminated '{{{{' in {template:?}");
        };
        let name = after[..end].trim();
        let Some(value) = values.get(name) else {
            bail!("references undeclared application variable {name:?}");
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Spin's check on the name a guest asks for (`invalid-name` otherwise).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn manifest(variables: &str, component_variables: &str) -> Manifest {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[variables]\n{variables}\n\
             [component.c]\nsource = \"c.wasm\"\n[component.c.variables]\n{component_variables}\n"
        );
        Manifest::parse(&text, PathBuf::new()).unwrap()
    }

    #[test]
    fn the_environment_overrides_the_default() {
        let m = manifest("greeting = { default = \"hi\" }", "g = \"{{ greeting }}!\"");
        let env = |k: &str| (k == "SPIN_VARIABLE_GREETING").then(|| "hello".to_string());
        let vars = ResolvedVariables::resolve(&m, env).unwrap();
        assert_eq!(vars.for_component("c")["g"], "hello!");
        let vars = ResolvedVariables::resolve(&m, |_| None).unwrap();
        assert_eq!(vars.for_component("c")["g"], "hi!");
    }

    #[test]
    fn a_missing_required_variable_is_named_in_the_error() {
        let m = manifest("api_key = { required = true }", "k = \"{{ api_key }}\"");
        let error = ResolvedVariables::resolve(&m, |_| None).unwrap_err();
        assert!(error.to_string().contains("api_key"), "{error}");
    }

    #[test]
    fn a_template_over_an_undeclared_variable_fails() {
        let m = manifest("a = { default = \"1\" }", "k = \"{{ b }}\"");
        assert!(ResolvedVariables::resolve(&m, |_| None).is_err());
    }

    #[test]
    fn names_follow_spins_rule() {
        assert!(is_valid_name("jwt_issuer"));
        assert!(!is_valid_name("JWT"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name(""));
    }
}
