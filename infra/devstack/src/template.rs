//! `template.yaml` as data: resources by logical id and a resolver for `!Ref`, `!Sub` and
//! `!GetAtt` against what was provisioned.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde_norway::Value;

/// The parsed template.
#[derive(Debug)]
pub struct Template {
    /// Resources by logical id.
    pub resources: BTreeMap<String, Resource>,
    globals: Value,
}

/// One resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// `Type`, e.g. `AWS::DynamoDB::Table`.
    pub kind: String,
    /// `Properties`.
    pub properties: Value,
}

/// Values the template's intrinsics resolve to: `Ref` per logical id, `GetAtt` per
/// `LogicalId.Attribute`, and the pseudo parameters.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// `!Ref X` values.
    pub refs: BTreeMap<String, String>,
    /// `!GetAtt X.Attr` values.
    pub attrs: BTreeMap<String, String>,
}

impl Template {
    /// Reads and parses a template file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text)
    }

    /// Parses template text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_norway::from_str(text).context("template is not YAML")?;
        let Some(Value::Mapping(res)) = doc.get("Resources") else {
            bail!("template has no Resources")
        };
        let mut resources = BTreeMap::new();
        for (id, body) in res {
            let id = id
                .as_str()
                .context("resource id is not a string")?
                .to_owned();
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .context("resource without Type")?
                .to_owned();
            let properties = body.get("Properties").cloned().unwrap_or(Value::Null);
            resources.insert(id, Resource { kind, properties });
        }
        let globals = doc.get("Globals").cloned().unwrap_or(Value::Null);
        Ok(Self { resources, globals })
    }

    /// Logical ids of the resources of one type.
    pub fn of_kind<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Resource)> {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    /// A function's property as deployed: its own, else the template's `Globals.Function` one
    /// (`Timeout`, `MemorySize`, ...).
    pub fn function_property(&self, function: &str, key: &str) -> Option<&Value> {
        let own = &self.resources.get(function)?.properties[key];
        if own.is_null() {
            let global = &self.globals["Function"][key];
            (!global.is_null()).then_some(global)
        } else {
            Some(own)
        }
    }

    /// A function's event sources of `kind` (`SQS`, `Schedule`, `HttpApi`), their
    /// `Properties`.
    pub fn function_events(&self, function: &str, kind: &str) -> Vec<&Value> {
        let Some(Value::Mapping(events)) = self
            .resources
            .get(function)
            .map(|f| &f.properties["Events"])
        else {
            return Vec::new();
        };
        events
            .values()
            .filter(|e| e["Type"].as_str() == Some(kind))
            .map(|e| &e["Properties"])
            .collect()
    }

    /// A function's environment: the global variables overlaid with its own, resolved.
    pub fn function_env(
        &self,
        function: &str,
        b: &Bindings,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let f = self
            .resources
            .get(function)
            .with_context(|| format!("no function {function}"))?;
        let mut env = BTreeMap::new();
        for source in [
            &self.globals["Function"]["Environment"]["Variables"],
            &f.properties["Environment"]["Variables"],
        ] {
            if let Value::Mapping(vars) = source {
                for (k, v) in vars {
                    let k = k.as_str().context("variable name")?.to_owned();
                    let v = resolve(v, b).with_context(|| format!("variable {k} of {function}"))?;
                    env.insert(k, v);
                }
            }
        }
        Ok(env)
    }
}

/// Resolves a scalar or an intrinsic to text.
pub fn resolve(v: &Value, b: &Bindings) -> anyhow::Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(x) => Ok(x.to_string()),
        Value::Tagged(t) => {
            let arg = t
                .value
                .as_str()
                .context("intrinsic argument is not a string")?;
            match t.tag.to_string().trim_start_matches('!') {
                "Ref" => b
                    .refs
                    .get(arg)
                    .cloned()
                    .with_context(|| format!("!Ref {arg} is not provisioned")),
                "GetAtt" => b
                    .attrs
                    .get(arg)
                    .cloned()
                    .with_context(|| format!("!GetAtt {arg} is not provisioned")),
                "Sub" => sub(arg, b),
                other => bail!("intrinsic !{other} is not supported locally"),
            }
        }
        other => bail!("cannot resolve {other:?}"),
    }
}

fn sub(text: &str, b: &Bindings) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').context("unclosed ${ in !Sub")? + start;
        let name = &rest[start + 2..end];
        let value = match name.split_once('.') {
            Some(_) => b.attrs.get(name),
            None => b.refs.get(name),
        };
        out.push_str(value.with_context(|| format!("!Sub ${{{name}}} is not provisioned"))?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_resolve_against_bindings() {
        let t = Template::parse(
            "Globals: {Function: {Environment: {Variables: {A: !Ref T, B: '5'}}}}\nResources:\n  T: {Type: AWS::DynamoDB::Table}\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Environment: {Variables: {B: !Sub 'x-${AWS::StackName}-${Q.Arn}'}}}\n",
        )
        .unwrap();
        let mut b = Bindings::default();
        b.refs.insert("T".into(), "table-1".into());
        b.refs.insert("AWS::StackName".into(), "s".into());
        b.attrs.insert("Q.Arn".into(), "arn:q".into());
        let env = t.function_env("F", &b).unwrap();
        assert_eq!(env["A"], "table-1");
        assert_eq!(env["B"], "x-s-arn:q", "function variables override globals");
        assert!(
            t.function_env("F", &Bindings::default()).is_err(),
            "unprovisioned refs are errors"
        );
    }
}
