"""Holds samconfig.toml's parameter_overrides against template.yaml's Parameters: every name is a
parameter of the template and every value passes its AllowedValues, AllowedPattern, MinValue and
MaxValue, so a typo fails `make lint-template` instead of `sam deploy`. (cfn-lint's --parameters
does not check them on a SAM template.) Run with the project venv's python (cfn-lint's decoder).
Usage: check-samconfig.py [template.yaml] [samconfig.toml]"""

import re
import shlex
import sys
import tomllib

from cfnlint.decode import decode

args = sys.argv[1:]
template_path = args[0] if args else "template.yaml"
config_path = args[1] if len(args) > 1 else "samconfig.toml"
template, matches = decode(template_path)
if matches:
    sys.exit(f"{template_path}: {matches}")
parameters = template.get("Parameters", {})
with open(config_path, "rb") as f:
    config = tomllib.load(f)

problems = []
for env, commands in config.items():
    if not isinstance(commands, dict):
        continue
    for command, section in commands.items():
        overrides = section.get("parameters", {}).get("parameter_overrides")
        if overrides is None:
            continue
        if isinstance(overrides, str):
            overrides = shlex.split(overrides)
        for item in overrides:
            name, sep, value = item.partition("=")
            where = f"{config_path} [{env}.{command}] {item!r}"
            if not sep:
                problems.append(f"{where}: not Name=Value")
                continue
            value = value.strip('"')
            spec = parameters.get(name)
            if spec is None:
                problems.append(f"{where}: template.yaml has no parameter {name}")
                continue
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(a) for a in allowed]:
                problems.append(f"{where}: not one of {allowed}")
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(pattern, value):
                problems.append(f"{where}: does not match {pattern}")
            if spec.get("Type") == "Number":
                try:
                    number = float(value)
                except ValueError:
                    problems.append(f"{where}: not a number")
                    continue
                if "MinValue" in spec and number < float(spec["MinValue"]):
                    problems.append(f"{where}: below MinValue {spec['MinValue']}")
                if "MaxValue" in spec and number > float(spec["MaxValue"]):
                    problems.append(f"{where}: above MaxValue {spec['MaxValue']}")

if problems:
    sys.exit("\n".join(problems))
print(f"{config_path}: parameter_overrides fit {template_path}'s Parameters")
