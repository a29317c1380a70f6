"""accordctl against a real accord-registry: validate, apply, review workflow, errors."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Registry, SOURCE, accordctl, check, workdir, write_keys  # noqa: E402

d = workdir("cli")
tokens = write_keys(d)
reg = Registry(d)
try:
    examples = os.path.join(SOURCE, "examples/definitions")
    r = accordctl(reg.address, None, "validate", "-f", examples, check=True)
    check("7 definition(s) valid" in r.stdout, r.stdout)

    bad = os.path.join(d, "bad.yaml")
    with open(bad, "w") as f:
        f.write("name: namespaces/default/definitions/x\nbuyer_persona:\n  colour: red\n")
    r = accordctl(reg.address, None, "validate", "-f", bad)
    check(r.returncode == 1 and "bad.yaml:3: unknown field 'colour'" in r.stderr, r.stderr)

    # Sample leads against the example model's field dictionary.
    r = accordctl(reg.address, None, "validate", "-f", examples, "--leads",
                  os.path.join(SOURCE, "examples/leads.jsonl"), check=True)
    check("240 lead(s) match the field dictionary" in r.stdout, r.stdout)
    typo = os.path.join(d, "typo.jsonl")
    with open(typo, "w") as f:
        f.write('{"id": "t1", "attributes": {"company": {"employes": 5, "country": 7}}}\n')
    r = accordctl(reg.address, None, "validate", "-f", examples, "--leads",
                  os.path.join(d, "missing.jsonl"))
    check(r.returncode == 1 and "missing.jsonl: cannot be read" in r.stderr, r.stderr)
    r = accordctl(reg.address, None, "validate", "-f", examples, "--leads", typo)
    check(r.returncode == 1 and "attribute 'company.employes' is not in the dictionary" in r.stderr
          and "attribute 'company.country' should be a string" in r.stderr, r.stderr)

    r = accordctl(reg.address, None, "list")
    check(r.returncode == 1 and "UNAUTHENTICATED" in r.stderr, r.stderr)
    r = accordctl(reg.address, tokens["viewer"], "apply", "-f", examples)
    check(r.returncode == 1 and "PERMISSION_DENIED" in r.stderr, r.stderr)

    ed, ma, sa = tokens["marketing_editor"], tokens["marketing_approver"], tokens["sales_approver"]
    r = accordctl(reg.address, ed, "apply", "-f", examples, check=True)
    check(r.stdout.count(" created") == 7, r.stdout)
    r = accordctl(reg.address, ed, "apply", "-f", examples, check=True)
    check(r.stdout.count(" unchanged") == 7, r.stdout)

    # Publishing the model before the personas it references is refused.
    accordctl(reg.address, ed, "propose", "b2b-lead-score", check=True)
    accordctl(reg.address, ma, "approve", "b2b-lead-score", check=True)
    r = accordctl(reg.address, ed, "publish", "b2b-lead-score")
    check(r.returncode == 1 and "APPROVAL_REQUIRED" in r.stderr, r.stderr)
    accordctl(reg.address, sa, "approve", "b2b-lead-score", check=True)
    r = accordctl(reg.address, ed, "publish", "b2b-lead-score")
    check(r.returncode == 1 and "REFERENCE_NOT_PUBLISHED" in r.stderr, r.stderr)

    for name in ["it-director", "revops-leader", "student", "b2b-lead-score"]:
        if name != "b2b-lead-score":
            accordctl(reg.address, ed, "propose", name, "-m", "first", check=True)
            r = accordctl(reg.address, ed, "approve", name)
            check(r.returncode == 1 and "PERMISSION_DENIED" in r.stderr, r.stderr)
            accordctl(reg.address, ma, "approve", name, check=True)
            accordctl(reg.address, sa, "approve", name, check=True)
        accordctl(reg.address, ed, "publish", name, check=True)
    r = accordctl(reg.address, tokens["viewer"], "list", "--filter", "published = true", check=True)
    check(r.stdout.count("\n") == 5, r.stdout)  # header + 4

    # Edit, diff, history, audit.
    edited = os.path.join(d, "edited.yaml")
    with open(os.path.join(examples, "10-personas.yaml")) as f:
        text = f.read().replace("min_match: 0.6", "min_match: 0.7")
    with open(edited, "w") as f:
        f.write(text)
    r = accordctl(reg.address, ed, "apply", "-f", edited, check=True)
    check("it-director updated" in r.stdout, r.stdout)
    r = accordctl(reg.address, ed, "diff", "it-director", check=True)
    check("--- revision" in r.stdout and "+++ draft" in r.stdout, r.stdout)
    check("~ persona: minimum match 0.6 -> 0.7  [tightens]" in r.stdout, r.stdout)
    check("at buyer_persona.min_match" in r.stdout, r.stdout)
    r = accordctl(reg.address, tokens["viewer"], "history", "it-director", check=True)
    check("PUBLISHED" in r.stdout, r.stdout)
    r = accordctl(reg.address, tokens["viewer"], "audit", "it-director", check=True)
    check("PublishRevision" in r.stdout and "UpdateDefinition" in r.stdout, r.stdout)
    r = accordctl(reg.address, tokens["viewer"], "get", "nope")
    check(r.returncode == 1 and "NOT_FOUND" in r.stderr, r.stderr)
    r = accordctl(reg.address, tokens["admin"], "delete", "it-director")
    check(r.returncode == 1 and "DEFINITION_REFERENCED" in r.stderr, r.stderr)
    # No keys file: refuse to start unless --insecure_dev on loopback.
    import subprocess
    from harness import BIN
    r = subprocess.run([os.path.join(BIN, "accord-registry"), "--listen=0.0.0.0:0",
                        f"--store=sqlite:{d}/other.db", "--insecure_dev"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "refusing to start" in r.stderr, r.stderr)
    print("registry_cli_test: ok")
finally:
    reg.stop()
