// Offline validation of rendered Kubernetes manifests (kubectl kustomize ... | node validate.mjs -):
//  1. every object against the Kubernetes JSON schemas (npm kubernetes-models);
//  2. unknown fields rejected, by walking @kubernetes/client-node's model type maps;
//  3. Accord's rules per workload: the restricted Pod Security profile, native gRPC probes
//     naming the registered health service, resources, preStop and grace period, no
//     service-account token, config from the generated ConfigMap, secrets as files.
// Prints "ok Kind/name" or "FAIL Kind/name: why" per object, then "N passed, M failed".
import fs from 'node:fs';
import {createRequire} from 'node:module';
import YAML from 'yaml';

const require = createRequire(import.meta.url);
const input = fs.readFileSync(process.argv[2] === '-' ? 0 : process.argv[2], 'utf8');
const docs = YAML.parseAllDocuments(input).map((d) => d.toJSON()).filter(Boolean);

const MODELS = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'V1Namespace'],
  'v1/Service': ['kubernetes-models/v1/Service', 'V1Service'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'V1ConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'V1Secret'],
  'v1/PersistentVolumeClaim': ['kubernetes-models/v1/PersistentVolumeClaim',
                               'V1PersistentVolumeClaim'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'V1Deployment'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget',
                                    'V1PodDisruptionBudget'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
                                         'V1NetworkPolicy'],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'V2HorizontalPodAutoscaler'],
};

function typeMap(name) {
  try {
    const mod = require(`@kubernetes/client-node/dist/gen/models/${name}.js`);
    return mod[name].getAttributeTypeMap();
  } catch {
    return null;
  }
}

// Unknown fields, by path.
function unknownFields(value, type, path, out) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`, out);
    return;
  }
  const attributes = typeMap(type);
  if (!attributes || typeof value !== 'object') return;  // scalars, IntOrString, Quantity
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!known.has(k)) {
      out.push(`unknown field ${path}.${k}`);
    } else {
      unknownFields(v, known.get(k), `${path}.${k}`, out);
    }
  }
}

const HEALTH_SERVICES = {
  registry: 'accord.registry.v1.Registry',
  scoring: 'accord.scoring.v1.Scoring',
  gateway: 'accord.gateway.v1.Gateway',
};

function workloadRules(obj, problems) {
  const pod = obj.spec.template.spec;
  const need = (cond, why) => { if (!cond) problems.push(why); };
  need(pod.automountServiceAccountToken === false, 'automountServiceAccountToken must be false');
  const psc = pod.securityContext || {};
  need(psc.runAsNonRoot === true, 'pod runAsNonRoot');
  need(psc.seccompProfile && psc.seccompProfile.type === 'RuntimeDefault', 'seccomp RuntimeDefault');
  need(pod.topologySpreadConstraints && pod.topologySpreadConstraints.length > 0,
       'topology spread');
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const volumes = new Map((pod.volumes || []).map((v) => [v.name, v]));
  for (const c of pod.containers) {
    const sc = c.securityContext || {};
    need(sc.allowPrivilegeEscalation === false, `${c.name}: allowPrivilegeEscalation false`);
    need(sc.readOnlyRootFilesystem === true, `${c.name}: readOnlyRootFilesystem`);
    need(sc.capabilities && (sc.capabilities.drop || []).includes('ALL'), `${c.name}: drop ALL`);
    need(!sc.privileged, `${c.name}: not privileged`);
    need(!sc.runAsUser || sc.runAsUser !== 0, `${c.name}: not root`);
    const r = c.resources || {};
    need(r.requests && r.requests.cpu && r.requests.memory, `${c.name}: cpu and memory requests`);
    need(r.limits && r.limits.memory, `${c.name}: memory limit`);
    const service = HEALTH_SERVICES[c.name];
    need(service, `${c.name}: unknown container`);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      need(c[probe] && c[probe].grpc && c[probe].grpc.port, `${c.name}: native gRPC ${probe}`);
    }
    need(c.readinessProbe?.grpc?.service === service,
         `${c.name}: readiness names ${service}`);
    need(c.startupProbe?.grpc?.service === service, `${c.name}: startup names ${service}`);
    const pre = c.lifecycle?.preStop?.sleep?.seconds;
    need(pre > 0, `${c.name}: preStop sleep`);
    need(grace > (pre || 0) + 15, `${c.name}: grace ${grace} s longer than preStop + drain (15 s)`);
    need((c.envFrom || []).some((e) => /^accord-config-[a-z0-9]+$/.test(e.configMapRef?.name || '')),
         `${c.name}: config from the generated (hashed) ConfigMap`);
    for (const e of c.env || []) {
      need(!/KEY|TOKEN|PASSWORD/.test(e.name) || e.valueFrom?.secretKeyRef,
           `${c.name}: ${e.name} must come from a Secret`);
    }
    const mounts = new Map((c.volumeMounts || []).map((m) => [m.name, m]));
    for (const name of ['tls', 'keys']) {
      need(volumes.get(name)?.secret && mounts.get(name)?.readOnly,
           `${c.name}: ${name} mounted read-only from a Secret`);
    }
    need(mounts.has('tmp') && volumes.get('tmp')?.emptyDir, `${c.name}: writable /tmp is an emptyDir`);
  }
}

let passed = 0;
let failed = 0;
for (const obj of docs) {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const problems = [];
  const entry = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!entry) {
    problems.push(`no schema for ${obj.apiVersion} ${obj.kind}`);
  } else {
    const mod = await import(entry[0]);
    try {
      new mod[obj.kind](obj).validate();
    } catch (e) {
      problems.push(`schema: ${e.message.split('\n').slice(0, 3).join(' ')}`);
    }
    unknownFields(obj, entry[1], '', problems);
  }
  if (obj.kind === 'Deployment') workloadRules(obj, problems);
  if (problems.length) {
    failed++;
    console.log(`FAIL ${id}: ${problems.join('; ')}`);
  } else {
    passed++;
    console.log(`ok ${id}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || passed === 0 ? 1 : 0);
