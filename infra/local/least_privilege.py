#!/usr/bin/env python3
"""Least privilege, proven: each function's role, as SAM generates it, against every AWS action
the function performed in the end-to-end suite.

    least_privilege.py LOG                 # the table; exit 1 on a missing or unused grant
    least_privilege.py LOG --removals      # also: removing each statement fails the check

LOG is what the suite recorded at the SDK (shared/src/aws/actions.rs, `MOOMOO_AWS_ACTIONS_LOG`,
set by `make test`):

    call <TAB> function <TAB> service:Action <TAB> resource as sent <TAB> condition keys (JSON)
    resource <TAB> logical id <TAB> physical name (written by the devstack when it provisions)

The roles come from template.yaml translated by SAM's own translator (PyPI aws-sam-translator,
offline): each function's generated role with its inline policies (policy templates expanded)
and managed policies, every AWS::IAM::Policy attached to it, and every resource-policy
statement naming it (the KMS key policy). Intrinsics resolve to canonical ARNs in account
123456789012, us-east-1, each resource named by its logical id; the recorded physical names
map to the same ARNs through the `resource` lines, so a recorded call and a grant compare as
IAM would compare them: action and resource (wildcards `*` and `?`), then the statement's
conditions (StringEquals, StringLike, ForAllValues:/ForAnyValue: StringEquals and StringLike, Null,
ArnLike, ArnEquals; any other operator is an error, never silently true).

It fails when
- a performed action is allowed by no statement (missing);
- an allowed (action, resource) pair of a statement is performed by no call of that function
  and is not listed in least-privilege-allow.tsv (unused);
- a listed pair is not granted (the list is stale, or a grant AWS needs is gone).

--removals removes each statement written in template.yaml (the functions' `Policies` and the
key policy's statements naming a role) in turn and checks that the check then fails: no
statement is redundant and none is there without a use. It also adds, one at a time, actions
the roles must refuse (what SAM's policy templates used to allow: the fetcher's Scan and
DeleteItem on the accounts table, bucket lifecycle; the scheduler reading an API key's item;
KMS use outside the encryption context's purposes) and checks each is refused.
"""
import argparse
import copy
import json
import os
import pathlib
import re
import sys
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACCOUNT, REGION, PARTITION, STACK = "123456789012", "us-east-1", "aws", "stack"
ALLOW_FILE = pathlib.Path(__file__).with_name("least-privilege-allow.tsv")

# The AWS managed policies SAM attaches (their documents as AWS publishes them).
MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


class CheckError(Exception):
    pass


# --- the template, translated by SAM -------------------------------------------------------


def translate(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(pathlib.Path(path).read_text())
    for r in template["Resources"].values():
        # As `sam validate` and cfn-lint do: the code is somewhere in S3.
        if r["Type"] == "AWS::Serverless::Function":
            r["Properties"]["CodeUri"] = "s3://bucket/code.zip"

    class NoManagedPolicyNames:
        def load(self):
            return {}

    params = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION}
    return template, transform(template, params, NoManagedPolicyNames())


class Resolver:
    """Resolves intrinsics with every parameter at its default and canonical resource names."""

    def __init__(self, cfn):
        self.cfn = cfn
        self.params = {
            k: v.get("Default") for k, v in cfn.get("Parameters", {}).items()
        }
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def kind(self, logical):
        return self.cfn["Resources"][logical]["Type"]

    def ref(self, name):
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return str(self.params[name])
        kind = self.kind(name)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"
        if kind == "AWS::KMS::Alias":
            return self.resolve(self.cfn["Resources"][name]["Properties"]["AliasName"])
        return name

    def getatt(self, name, attr):
        kind = self.kind(name)
        arns = {
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{name}",
            "AWS::KMS::Key": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        }
        if attr == "Arn" and kind in arns:
            return arns[kind]
        if kind == "AWS::SQS::Queue" and attr == "QueueName":
            return name
        raise CheckError(f"cannot resolve !GetAtt {name}.{attr}")

    def condition(self, name):
        return self.truth(self.cfn["Conditions"][name])

    def truth(self, c):
        (fn, args), = c.items()
        if fn == "Fn::Not":
            return not self.truth(args[0])
        if fn == "Fn::Equals":
            return str(self.resolve(args[0])) == str(self.resolve(args[1]))
        if fn == "Fn::And":
            return all(self.truth(a) for a in args)
        if fn == "Fn::Or":
            return any(self.truth(a) for a in args)
        if fn == "Condition":
            return self.condition(args)
        raise CheckError(f"cannot evaluate condition {fn}")

    def resolve(self, v):
        if isinstance(v, list):
            out = [self.resolve(x) for x in v]
            return [x for x in out if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return NO_VALUE if a == "AWS::NoValue" else self.ref(a)
            if k == "Fn::GetAtt":
                name, attr = a if isinstance(a, list) else a.split(".", 1)
                return self.getatt(name, attr)
            if k == "Fn::Sub":
                text, names = (a, {}) if isinstance(a, str) else (a[0], a[1])
                names = {n: self.resolve(x) for n, x in names.items()}

                def sub(m):
                    key = m.group(1)
                    if key in names:
                        return str(names[key])
                    if "." in key:
                        return str(self.getatt(*key.split(".", 1)))
                    return str(self.ref(key))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
            if k == "Fn::Join":
                return a[0].join(str(x) for x in self.resolve(a[1]))
            if k == "Fn::If":
                return self.resolve(a[1] if self.condition(a[0]) else a[2])
        out = {k: self.resolve(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not NO_VALUE}


NO_VALUE = object()


def as_list(v):
    return v if isinstance(v, list) else [v]


class Statement:
    def __init__(self, sid, source, doc, editable):
        self.sid = sid  # where it is, for the report
        self.source = source  # (kind, locator) to remove it from the translated template
        self.effect = doc.get("Effect")
        if "NotAction" in doc or "NotResource" in doc or "NotPrincipal" in doc:
            raise CheckError(f"{sid}: NotAction/NotResource/NotPrincipal are not supported")
        self.actions = as_list(doc.get("Action", []))
        self.resources = as_list(doc.get("Resource", []))
        self.condition = doc.get("Condition", {})
        self.editable = editable


def roles(template, cfn):
    """Each function's statements: {function: [Statement]}, and each function's binary."""
    r = Resolver(cfn)
    res = cfn["Resources"]
    functions = {k: v for k, v in res.items() if v["Type"] == "AWS::Lambda::Function"}
    binaries = {}
    for f in functions:
        meta = template["Resources"].get(f, {}).get("Metadata", {})
        binaries[meta.get("BuildProperties", {}).get("Binary", f)] = f
    role_of = {}
    for f, v in functions.items():
        role = v["Properties"]["Role"]
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise CheckError(f"{f}: its Role is not a role of this template")
        role_of[as_list(role["Fn::GetAtt"])[0].split(".")[0]] = f
    out = defaultdict(list)
    for role, f in role_of.items():
        props = res[role]["Properties"]
        for i, p in enumerate(props.get("Policies", [])):
            doc = r.resolve(p["PolicyDocument"])
            for j, s in enumerate(as_list(doc["Statement"])):
                out[f].append(
                    Statement(
                        f"{f} Policies {s.get('Sid', f'{i}.{j}')}",
                        ("inline", role, i, j),
                        s,
                        True,
                    )
                )
        for arn in r.resolve(props.get("ManagedPolicyArns", [])):
            if arn not in MANAGED:
                raise CheckError(f"{role}: managed policy {arn} unknown to the check (add it)")
            for j, s in enumerate(MANAGED[arn]):
                out[f].append(Statement(f"{arn.rsplit('/', 1)[1]} (SAM)", None, s, False))
    role_arns = {Resolver(cfn).getatt(role, "Arn"): f for role, f in role_of.items()}
    for name, v in res.items():
        props = v.get("Properties", {})
        if v["Type"] in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
            attached = [x.get("Ref") for x in as_list(props.get("Roles", props.get("RoleName")))]
            doc = r.resolve(props["PolicyDocument"])
            for j, s in enumerate(as_list(doc["Statement"])):
                for role in attached:
                    if role in role_of:
                        out[role_of[role]].append(
                            Statement(f"{name} #{j}", ("policy", name, j), s, True)
                        )
        # Resource policies: a statement whose principal is a function's role. "*" as its
        # resource means the resource itself (a key policy).
        for field in ("KeyPolicy", "PolicyDocument"):
            if field not in props or v["Type"] in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
                continue
            doc = r.resolve(props[field])
            for j, s in enumerate(as_list(doc["Statement"])):
                principal = s.get("Principal", {})
                principals = as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
                for p in principals:
                    if p in role_arns:
                        s2 = dict(s)
                        if v["Type"] == "AWS::KMS::Key":
                            s2["Resource"] = r.getatt(name, "Arn")
                        sid = s.get("Sid", f"#{j}")
                        out[role_arns[p]].append(
                            Statement(f"{name} {field} {sid}", ("resource", name, field, j), s2, True)
                        )
    return dict(out), binaries


def remove(cfn, source):
    """The translated template without the statement at `source`."""
    cfn = copy.deepcopy(cfn)
    res = cfn["Resources"]
    if source[0] == "inline":
        _, role, i, j = source
        doc = res[role]["Properties"]["Policies"][i]["PolicyDocument"]
        stmts = as_list(doc["Statement"])
        del stmts[j]
        doc["Statement"] = stmts
    elif source[0] == "policy":
        _, name, j = source
        doc = res[name]["Properties"]["PolicyDocument"]
        stmts = as_list(doc["Statement"])
        del stmts[j]
        doc["Statement"] = stmts
    else:
        _, name, field, j = source
        doc = res[name]["Properties"][field]
        stmts = as_list(doc["Statement"])
        del stmts[j]
        doc["Statement"] = stmts
    return cfn


# --- what was performed --------------------------------------------------------------------


def read_log(path, cfn, binaries):
    """{function: {(action, canonical resource, conditions json)}}."""
    r = Resolver(cfn)
    physical = {}
    calls = []
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        parts = line.split("\t")
        if parts[0] == "resource" and len(parts) == 3:
            physical[parts[2]] = parts[1]
            # A key is named by its ARN or its id (which a ciphertext carries).
            if re.match(r"arn:[^:]+:kms:[^:]*:[^:]*:key/", parts[2]):
                physical[parts[2].rsplit("/", 1)[1]] = parts[1]
        elif parts[0] == "call" and len(parts) == 5:
            calls.append(parts[1:])
        else:
            raise CheckError(f"{path}:{n}: not a record: {line!r}")
    res = cfn["Resources"]

    def logical(name, what):
        if name not in physical:
            raise CheckError(f"{what}: {name!r} is no resource the devstack provisioned")
        return physical[name]

    def canonical(action, resource):
        service = action.split(":", 1)[0]
        if resource == "*":
            return "*"
        if service == "dynamodb":
            table, _, index = resource.partition("/index/")
            arn = r.getatt(logical(table, action), "Arn")
            return f"{arn}/index/{index}" if index else arn
        if service == "sqs":
            return r.getatt(logical(resource, action), "Arn")
        if service == "s3":
            bucket, slash, key = resource.partition("/")
            return r.getatt(logical(bucket, action), "Arn") + slash + key
        if service == "kms":
            key = logical(resource, action)
            if res[key]["Type"] == "AWS::KMS::Alias":
                key = res[key]["Properties"]["TargetKeyId"]["Ref"]
            return r.getatt(key, "Arn")
        if service == "secretsmanager":
            return r.ref(logical(resource, action))
        raise CheckError(f"{action}: no resource mapping for service {service}")

    performed = defaultdict(set)
    unknown = set()
    for function, action, resource, cond in calls:
        f = function if function in res else binaries.get(function)
        if f is None:
            unknown.add(function)
            continue
        performed[f].add((action, canonical(action, resource), cond))
    if unknown:
        raise CheckError(f"calls recorded for functions not in the template: {sorted(unknown)}")
    return performed


# --- IAM matching --------------------------------------------------------------------------


def glob(pattern, value, case=True):
    rx = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(rx, value, 0 if case else re.I) is not None


def conditions_hold(condition, context):
    for op, tests in condition.items():
        for key, wanted in tests.items():
            wanted = [str(w) for w in as_list(wanted)]
            have = context.get(key)
            values = None if have is None else [str(x) for x in as_list(have)]
            if op == "Null":
                ok = (values is None) == (wanted[0] == "true")
            elif op in ("StringEquals", "ArnEquals"):
                ok = values is not None and len(values) == 1 and values[0] in wanted
            elif op in ("StringLike", "ArnLike"):
                ok = values is not None and len(values) == 1 and any(glob(w, values[0]) for w in wanted)
            elif op == "ForAllValues:StringEquals":
                ok = values is None or all(x in wanted for x in values)
            elif op == "ForAllValues:StringLike":
                ok = values is None or all(any(glob(w, x) for w in wanted) for x in values)
            elif op == "ForAnyValue:StringEquals":
                ok = values is not None and any(x in wanted for x in values)
            elif op == "ForAnyValue:StringLike":
                ok = values is not None and any(glob(w, x) for w in wanted for x in values)
            else:
                raise CheckError(f"condition operator {op} is not supported by the check")
            if not ok:
                return False
    return True


def grants(statements):
    """(statement, action pattern, resource pattern) of every Allow statement."""
    for s in statements:
        if s.effect != "Allow":
            continue
        for a in s.actions:
            for r in s.resources:
                yield s, a, r


def allows(s, a, r, action, resource, cond):
    return (
        glob(a, action, case=False)
        and glob(r, resource)
        and conditions_hold(s.condition, json.loads(cond))
    )


def read_allowlist():
    out = []
    for n, line in enumerate(ALLOW_FILE.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or not parts[3].strip():
            raise CheckError(f"{ALLOW_FILE.name}:{n}: want function(s), action, resource, reason")
        for f in parts[0].split(","):
            out.append((f.strip(), parts[1], parts[2], parts[3]))
    return out


def check(statements, performed, allowlist):
    """Per function: rows {(action, resource): (state, note)}, and the failures."""
    failures = []
    rows = {}
    for f in sorted(set(statements) | set(performed)):
        stmts = statements.get(f, [])
        done = performed.get(f, set())
        listed = {(a, r): why for g, a, r, why in allowlist if g == f}
        table = rows.setdefault(f, {})
        for action, resource, cond in sorted(done):
            if not any(allows(s, a, r, action, resource, cond) for s, a, r in grants(stmts)):
                failures.append(f"{f}: {action} on {resource} {cond} is performed but not allowed")
                table[(action, shorten_key(resource))] = ("MISSING", "")
        for s, a, r in grants(stmts):
            if any(allows(s, a, r, x, y, c) for x, y, c in done):
                table[(a, r)] = ("used", "")
            elif (a, r) in listed:
                table.setdefault((a, r), ("AWS only", listed[(a, r)]))
            else:
                table[(a, r)] = ("UNUSED", "")
                failures.append(f"{f}: {a} on {r} ({s.sid}) is allowed but never performed")
        granted = {(a, r) for _, a, r in grants(stmts)}
        for (a, r), why in listed.items():
            if (a, r) not in granted:
                failures.append(f"{f}: {a} on {r} is listed as needed in AWS but not granted")
    return rows, failures


def shorten_key(resource):
    """An S3 object's key cut after its first segment, for the table."""
    m = re.match(r"(arn:[^:]+:s3:::[^/]+/[^/]+/).+", resource)
    return m.group(1) + "..." if m else resource


def short(resource):
    return re.sub(rf"arn:{PARTITION}:[a-z0-9-]+:({REGION})?:({ACCOUNT})?:?", "", resource)


def print_table(rows):
    print("Least privilege: each function's role (SAM's translation of template.yaml) against the")
    print("AWS actions it performed across the end-to-end suite (recorded at the SDK).")
    order = {"MISSING": 0, "UNUSED": 1, "used": 2, "AWS only": 3}
    summary = []
    for f, table in rows.items():
        print(f"\n{f}")
        w = max([len(a) for a, _ in table] + [6])
        for (a, r), (state, note) in sorted(table.items(), key=lambda x: (order[x[1][0]], x[0])):
            extra = f"  ({note.split(':')[0]})" if state == "AWS only" else ""
            print(f"  {a:<{w}}  {short(r):<40} {state}{extra}")
        n = lambda st: sum(1 for x, _ in table.values() if x == st)
        summary.append((f, len(table) - n("MISSING"), n("used"), n("AWS only"), n("UNUSED"), n("MISSING")))
    print("\nfunction            allowed  used  AWS only  unused  missing   (action x resource)")
    for f, allowed, used, aws, unused, missing in summary:
        print(f"{f:<19} {allowed:>7} {used:>5} {aws:>9} {unused:>7} {missing:>8}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("--template", default=str(ROOT / "template.yaml"))
    ap.add_argument("--removals", action="store_true")
    args = ap.parse_args()
    try:
        if not pathlib.Path(args.log).exists() or pathlib.Path(args.log).stat().st_size == 0:
            raise CheckError(f"{args.log}: nothing recorded; run the suite first (make test)")
        template, cfn = translate(args.template)
        statements, binaries = roles(template, cfn)
        performed = read_log(args.log, cfn, binaries)
        allowlist = read_allowlist()
        rows, failures = check(statements, performed, allowlist)
        print_table(rows)
        if failures:
            print(f"\nleast privilege: FAILED ({len(failures)})", file=sys.stderr)
            for x in failures[:60]:
                print(f"  {x}", file=sys.stderr)
            return 1
        print("\nleast privilege: every performed action allowed, every grant used or needed in AWS")
        if args.removals:
            return removals(cfn, performed, allowlist)
        return 0
    except CheckError as e:
        print(f"least privilege: {e}", file=sys.stderr)
        return 1


def removals(cfn, performed, allowlist):
    statements, _ = roles({"Resources": {}}, cfn)
    sources = []
    for f, stmts in statements.items():
        for s in stmts:
            if s.editable and s.source not in [x for x, _ in sources]:
                sources.append((s.source, s.sid))
    kept = []
    for source, sid in sources:
        without, _ = roles({"Resources": {}}, remove(cfn, source))
        _, failures = check(without, performed, allowlist)
        if failures:
            why = re.sub(r" \{.*\} is performed", " is performed", failures[0])
            why = re.sub(r"arn:[^ ]+", lambda m: short(shorten_key(m.group(0))), why)
            print(f"  without {sid}: fails ({why})")
        else:
            kept.append(sid)
    print(f"\nremoving each of the {len(sources)} statements of template.yaml in turn: "
          f"{len(sources) - len(kept)} fail the check")
    # And actions the roles must refuse (what the SAM policy templates used to allow, and the
    # conditions' reason to be), each added to what the suite did.
    arn = Resolver(cfn).getatt
    key, accounts = arn("CredentialsKey", "Arn"), arn("AccountsTable", "Arn")
    ctx = {"kms:EncryptionContextKeys": ["data_source_id", "purpose", "user_id"],
           "kms:EncryptionContext:data_source_id": "jquants-v2",
           "kms:EncryptionContext:user_id": "usr_x"}
    refused = [
        ("FetcherFunction", "dynamodb:Scan", accounts, {}, "the fetcher scans the accounts table"),
        ("FetcherFunction", "dynamodb:DeleteItem", accounts, {"dynamodb:LeadingKeys": ["USER#usr_x"]},
         "the fetcher deletes an account item"),
        ("FetcherFunction", "s3:PutLifecycleConfiguration", arn("RawPayloadBucket", "Arn"), {},
         "the fetcher sets the bucket's lifecycle"),
        ("SchedulerFunction", "dynamodb:GetItem", accounts, {"dynamodb:LeadingKeys": ["APIKEY#0f"]},
         "the scheduler reads an API key's item"),
        ("FetcherFunction", "kms:Decrypt", key, {**ctx, "kms:EncryptionContext:purpose": "other"},
         "a decrypt for another purpose"),
        ("FetcherFunction", "kms:Decrypt", key, {"kms:EncryptionContextKeys": []},
         "a decrypt without encryption context"),
        ("ApiFunction", "kms:Decrypt", key, {**ctx, "kms:EncryptionContext:purpose": "credentials"},
         "the API decrypts a credential"),
        ("SchedulerFunction", "kms:GenerateDataKey", key, {**ctx, "kms:EncryptionContext:purpose": "credentials"},
         "the scheduler seals a credential"),
    ]
    refused_ok = 0
    for f, action, resource, cond, what in refused:
        more = {g: set(v) for g, v in performed.items()}
        more.setdefault(f, set()).add((action, resource, json.dumps(cond)))
        if check(statements, more, allowlist)[1]:
            refused_ok += 1
        else:
            print(f"  allowed, but must not be: {what}", file=sys.stderr)
            kept.append(what)
    print(f"actions the roles must refuse ({', '.join(w for *_, w in refused)}): "
          f"{refused_ok} of {len(refused)} refused")
    for sid in kept:
        print(f"  the check still passes: {sid}", file=sys.stderr)
    return 1 if kept or not sources else 0


if __name__ == "__main__":
    sys.exit(main())
