//! `template.yaml` as data: resources by logical id and a resolver for `!Ref`, `!Sub` and
//! `!GetAtt` against what was provisioned. The local stack deploys the template with every
//! parameter at its default: `!Ref` of a parameter, `!If` (with the template's `Conditions`),
//! `!Ref AWS::NoValue` and `${Parameter}` in `!Sub` are resolved when the template is read, and
//! a resource whose `Condition` is false is left out, so the rest sees literal values.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde_norway::value::TaggedValue;
use serde_norway::{Mapping, Value};

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
        let defaults = Defaults::read(&doc);
        let Some(Value::Mapping(res)) = doc.get("Resources") else {
            bail!("template has no Resources")
        };
        let mut resources = BTreeMap::new();
        for (id, body) in res {
            let id = id
                .as_str()
                .context("resource id is not a string")?
                .to_owned();
            if let Some(condition) = body.get("Condition").and_then(Value::as_str)
                && !defaults.condition(condition)?
            {
                continue;
            }
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .context("resource without Type")?
                .to_owned();
            let properties = body.get("Properties").cloned().unwrap_or(Value::Null);
            let properties = defaults
                .apply(properties)
                .with_context(|| format!("resource {id}"))?
                .unwrap_or(Value::Null);
            resources.insert(id, Resource { kind, properties });
        }
        let globals = doc.get("Globals").cloned().unwrap_or(Value::Null);
        let globals = defaults.apply(globals)?.unwrap_or(Value::Null);
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

/// The template's parameters at their defaults, and its conditions.
struct Defaults<'a> {
    parameters: BTreeMap<String, Value>,
    conditions: &'a Value,
}

impl<'a> Defaults<'a> {
    fn read(doc: &'a Value) -> Self {
        let mut parameters = BTreeMap::new();
        if let Some(Value::Mapping(params)) = doc.get("Parameters") {
            for (name, p) in params {
                let (Some(name), Some(default)) = (name.as_str(), p.get("Default")) else {
                    continue;
                };
                // A `Number` parameter is a number wherever it is used (`MemorySize`, ...).
                let value = match (p["Type"].as_str(), default) {
                    (Some("Number"), Value::String(s)) => {
                        serde_norway::from_str::<Value>(s).unwrap_or_else(|_| default.clone())
                    }
                    _ => default.clone(),
                };
                parameters.insert(name.to_owned(), value);
            }
        }
        Self {
            parameters,
            conditions: &doc["Conditions"],
        }
    }

    fn condition(&self, name: &str) -> anyhow::Result<bool> {
        let c = &self.conditions[name];
        anyhow::ensure!(!c.is_null(), "no condition {name}");
        self.truth(c).with_context(|| format!("condition {name}"))
    }

    fn truth(&self, v: &Value) -> anyhow::Result<bool> {
        let Value::Tagged(t) = v else {
            bail!("{v:?} is not a condition function")
        };
        let args = t.value.as_sequence().map(Vec::as_slice).unwrap_or_default();
        match (t.tag.to_string().trim_start_matches('!'), args) {
            ("Equals", [a, b]) => Ok(self.text(a)? == self.text(b)?),
            ("Not", [a]) => Ok(!self.truth(a)?),
            ("And", all) => all
                .iter()
                .try_fold(true, |acc, c| Ok(acc && self.truth(c)?)),
            ("Or", any) => any
                .iter()
                .try_fold(false, |acc, c| Ok(acc || self.truth(c)?)),
            ("Condition", []) => self.condition(t.value.as_str().context("condition name")?),
            (other, _) => bail!("!{other} is not supported locally in a condition"),
        }
    }

    fn text(&self, v: &Value) -> anyhow::Result<String> {
        match self.apply(v.clone())? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            other => bail!("cannot compare {other:?}"),
        }
    }

    /// `v` with parameters, `!If` and `${Parameter}` in `!Sub` resolved; `None` for
    /// `AWS::NoValue` (its key or list item is dropped).
    fn apply(&self, v: Value) -> anyhow::Result<Option<Value>> {
        Ok(Some(match v {
            Value::Tagged(t) => {
                let TaggedValue { tag, value } = *t;
                match (tag.to_string().trim_start_matches('!'), value) {
                    ("Ref", Value::String(r)) if r == "AWS::NoValue" => return Ok(None),
                    ("Ref", Value::String(r)) if self.parameters.contains_key(&r) => {
                        self.parameters[&r].clone()
                    }
                    ("If", Value::Sequence(s)) => {
                        let [c, yes, no] = <[Value; 3]>::try_from(s)
                            .map_err(|_| anyhow::anyhow!("!If takes three arguments"))?;
                        let c = c.as_str().context("!If condition name")?;
                        return self.apply(if self.condition(c)? { yes } else { no });
                    }
                    ("Sub", Value::String(text)) => Value::Tagged(Box::new(TaggedValue {
                        tag,
                        value: Value::String(self.sub(&text)?),
                    })),
                    (_, value) => Value::Tagged(Box::new(TaggedValue { tag, value })),
                }
            }
            Value::Mapping(m) => {
                let mut out = Mapping::new();
                for (k, v) in m {
                    if let Some(v) = self.apply(v)? {
                        out.insert(k, v);
                    }
                }
                Value::Mapping(out)
            }
            Value::Sequence(s) => Value::Sequence(
                s.into_iter()
                    .filter_map(|v| self.apply(v).transpose())
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => other,
        }))
    }

    /// `${Parameter}` replaced by its default; every other `${...}` kept for [`resolve`].
    fn sub(&self, text: &str) -> anyhow::Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let end = rest[start..].find('}').context("unclosed ${ in !Sub")? + start;
            let name = &rest[start + 2..end];
            out.push_str(&rest[..start]);
            match self.parameters.get(name) {
                Some(v) => out.push_str(&self.text(v)?),
                None => out.push_str(&rest[start..=end]),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
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

    #[test]
    fn parameters_resolve_to_their_defaults() {
        let t = Template::parse(
            r#"
Parameters:
  Memory: {Type: Number, Default: "512"}
  Reserved: {Type: Number, Default: 0}
  Stage: {Type: String, Default: v1stage}
  Mail: {Type: String, Default: ""}
Conditions:
  IsReserved: !Not [!Equals [!Ref Reserved, 0]]
  HasMail: !Not [!Equals [!Ref Mail, ""]]
  Either: !Or [!Condition IsReserved, !Condition HasMail]
Globals: {Function: {Environment: {Variables: {S: !Sub "${Stage}-${AWS::StackName}"}}}}
Resources:
  Api: {Type: AWS::Serverless::HttpApi, Properties: {StageName: !Ref Stage}}
  F:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: !Ref Memory
      ReservedConcurrentExecutions: !If [IsReserved, !Ref Reserved, !Ref AWS::NoValue]
      Tags: [!If [Either, a, !Ref AWS::NoValue], b]
  Sub: {Type: AWS::SNS::Subscription, Condition: HasMail, Properties: {Endpoint: !Ref Mail}}
"#,
        )
        .unwrap();
        assert_eq!(
            t.function_property("F", "MemorySize")
                .and_then(Value::as_u64),
            Some(512)
        );
        assert!(
            t.function_property("F", "ReservedConcurrentExecutions")
                .is_none()
        );
        assert_eq!(t.resources["F"].properties["Tags"], Value::from(vec!["b"]));
        assert_eq!(t.resources["Api"].properties["StageName"], "v1stage");
        assert!(
            !t.resources.contains_key("Sub"),
            "a false Condition leaves it out"
        );
        let mut b = Bindings::default();
        b.refs.insert("AWS::StackName".into(), "s".into());
        assert_eq!(t.function_env("F", &b).unwrap()["S"], "v1stage-s");
    }
}
