"""The container image and Kubernetes deployment, checked offline (no Docker engine or
cluster here): both Kustomize overlays render; every object validates against the Kubernetes
schemas with unknown fields rejected and Accord's restricted-profile and probe rules; the
validator catches seeded mistakes; the Dockerfile lints clean and its runtime package list
matches what the binaries link."""
import os
import re
import shutil
import subprocess
import sys

import yaml

SOURCE = os.environ["ACCORD_SOURCE"]
BIN = os.environ["ACCORD_BIN"]
NODE = os.environ["ACCORD_DEPLOY_NODE"]  # where npm installed tests/deploy/package.json


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print("ok:", message)


kubectl = shutil.which("kubectl")
check(kubectl is not None, "kubectl is installed (kustomize renders offline)")
# The validator is an ES module: it must live beside its node_modules.
shutil.copy(os.path.join(SOURCE, "tests/deploy/validate.mjs"), NODE)
validator = os.path.join(NODE, "validate.mjs")


def render(overlay):
    r = subprocess.run([kubectl, "kustomize", os.path.join(SOURCE, "deploy/k8s/overlays", overlay)],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"kubectl kustomize renders {overlay}: {r.stderr[:300]}")
    return r.stdout


def validate(text):
    r = subprocess.run(["node", validator, "-"], input=text, capture_output=True, text=True,
                       timeout=60, cwd=NODE)
    return r.returncode, r.stdout


objects = {}
for overlay in ("dev", "prod"):
    text = render(overlay)
    code, out = validate(text)
    print(out)
    check(code == 0 and re.search(r"^\d+ passed, 0 failed$", out, re.M),
          f"every {overlay} object is valid and follows the rules")
    objects[overlay] = {(o["kind"], o["metadata"]["name"]): o
                        for o in yaml.safe_load_all(text) if o}

# The validator catches mistakes (else a green run would mean nothing).
prod_text = render("prod")
for name, broken, expect in [
        ("an unknown field", prod_text.replace("readOnlyRootFilesystem: true",
                                               "readOnlyRootFileSystem: true", 1),
         "unknown field"),
        ("a wrong type", prod_text.replace("averageUtilization: 70",
                                           "averageUtilization: seventy", 1), "schema"),
        ("a service-account token", prod_text.replace("automountServiceAccountToken: false",
                                                      "automountServiceAccountToken: true", 1),
         "automountServiceAccountToken"),
        ("a probe without the health service",
         prod_text.replace("service: accord.gateway.v1.Gateway", "service: x", 1),
         "names accord.gateway.v1.Gateway"),
        ("a privileged escalation", prod_text.replace("allowPrivilegeEscalation: false",
                                                      "allowPrivilegeEscalation: true", 1),
         "allowPrivilegeEscalation")]:
    check(broken != prod_text, f"seeded {name}")
    code, out = validate(broken)
    check(code != 0 and expect in out, f"the validator rejects {name}")

# The overlays' shape.
prod, dev = objects["prod"], objects["dev"]
reg = prod[("Deployment", "accord-registry")]
check(reg["spec"]["replicas"] >= 2, "prod: the registry has 2+ replicas")
env = reg["spec"]["template"]["spec"]["containers"][0].get("env", [])
check(any(e["name"] == "ACCORD_REGISTRY_STORE" and "secretKeyRef" in e.get("valueFrom", {})
          for e in env), "prod: the PostgreSQL DSN comes from a Secret")
for name in ("accord-scoring", "accord-gateway"):
    check(("HorizontalPodAutoscaler", name) in prod, f"prod: {name} is autoscaled")
for name in ("accord-registry", "accord-scoring", "accord-gateway"):
    check(("PodDisruptionBudget", name) in prod, f"prod: {name} has a PodDisruptionBudget")
    check(prod[("Service", name)]["spec"].get("clusterIP") == "None",
          f"prod: {name} is a headless Service (round-robin from the gateway)")
check(("NetworkPolicy", "default-deny") in prod, "prod: default-deny NetworkPolicy")
dreg = dev[("Deployment", "accord-registry")]
check(dreg["spec"]["replicas"] == 1 and dreg["spec"]["strategy"]["type"] == "Recreate",
      "dev: one registry, replaced not rolled (SQLite has one writer)")
check(("PersistentVolumeClaim", "accord-registry-data") in dev, "dev: the registry has a PVC")
config = next(o for k, o in dev.items() if k[0] == "ConfigMap")
check(config["data"]["ACCORD_REGISTRY_STORE"].startswith("sqlite:/var/lib/accord/data/"),
      "dev: SQLite on the volume")

# The Dockerfile.
dockerfile = os.path.join(SOURCE, "deploy/docker/Dockerfile")
lint = subprocess.run([os.path.join(NODE, "node_modules/.bin/dockerfile-utils"), "lint",
                       dockerfile], capture_output=True, text=True, timeout=60)
check(lint.returncode == 0 and lint.stdout.strip() == "",
      f"dockerfile-utils lint is clean: {lint.stdout}")
text = open(dockerfile).read()
check(len(re.findall(r"^FROM \$\{DEBIAN\}", text, re.M)) == 3 and
      "ARG DEBIAN=debian:bookworm-slim" in text,
      "three stages (build, console, runtime), all debian:bookworm-slim")
check("COPY --from=console /console/ /usr/share/accord/console/" in text,
      "the image carries the console the gateway serves")
check(re.search(r"^USER 65532:65532$", text, re.M), "runs as 65532")
check(re.search(r'^ENTRYPOINT \["/usr/local/bin/', text, re.M), "exec-form entrypoint")
block = text.split("# runtime-packages:begin")[1].split("# runtime-packages:end")[0]
listed = set(re.findall(r"^\s+([a-z0-9][a-z0-9.+-]+) \\$", block, re.M)) - {"ca-certificates"}

# What the binaries link directly, as Debian packages (libc6 and libgcc-s1 are in the base).
needed = set()
for binary in ("accord-registry", "accord-scoring", "accord-gateway", "accordctl"):
    out = subprocess.run(["readelf", "-d", os.path.join(BIN, binary)], capture_output=True,
                         text=True, check=True).stdout
    needed.update(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out))
ldconfig = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
packages = set()
for so in sorted(needed):
    m = re.search(rf"^\s+{re.escape(so)} \(libc6,x86-64\) => (\S+)$", ldconfig, re.M)
    check(m is not None, f"{so} is found by ldconfig")
    path = os.path.realpath(m.group(1))
    owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if owner.returncode != 0:  # merged /usr: dpkg knows the /lib path
        owner = subprocess.run(["dpkg", "-S", path.replace("/usr/lib/", "/lib/", 1)],
                               capture_output=True, text=True)
    check(owner.returncode == 0, f"{so} belongs to a Debian package")
    packages.add(owner.stdout.split(":")[0])
packages -= {"libc6", "libgcc-s1"}
check(packages == listed, f"the runtime stage installs exactly what the binaries link: "
      f"missing {sorted(packages - listed)}, extra {sorted(listed - packages)}")
print("PASS")
