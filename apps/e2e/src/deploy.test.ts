// The deployment files: the Helm chart linted and rendered by the real helm, docker-compose.yml
// checked against the roles that exist (and by `docker compose config` where Docker is).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseAlertmanagerConfig } from '@pharos/alerting';
import { parsePrometheusConfig } from '@pharos/config';
import { parseRuleFile } from '@pharos/rules';
import { requireBinary, ROOT } from './harness.js';

const CHART = join(ROOT, 'deploy/helm/pharos');
const ROLES = ['discovery', 'scraper', 'ingester', 'querier', 'ruler', 'alertmanager'];

function findHelm(): string {
  const local = join(ROOT, '.cache/bin/helm');
  if (existsSync(local)) return local;
  const r = spawnSync('sh', ['-c', 'command -v helm']);
  if (r.status === 0) return r.stdout.toString().trim();
  throw new Error('helm is not installed; run "bash tools/deps.sh" (it builds helm from its Go module)');
}

function helm(...args: string[]): string {
  const r = spawnSync(findHelm(), args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `helm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: Array<{ resources: string[] }>;
}

interface Container {
  name: string;
  args: string[];
  readinessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string> };
}

function containers(o: K8sObject): Container[] {
  const spec = o.spec as { template: { spec: { containers: Container[] } } };
  return spec.template.spec.containers;
}

describe('Helm chart deploy/helm/pharos', () => {
  it('passes helm lint --strict', () => {
    helm('lint', '--strict', CHART);
    helm('lint', '--strict', CHART, '--set', 'serviceMonitor.enabled=true');
  });

  it('renders a ServiceMonitor over every role when asked for', () => {
    const objects = parseAllDocuments(helm('template', 'obs', CHART, '--set', 'serviceMonitor.enabled=true'))
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    assert.ok(monitor);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'obs-metrics');
    assert.ok(service, 'the ServiceMonitor has a Service over every pod');
    assert.deepEqual((service.spec as { ports: unknown[] }).ports, [
      { name: 'http', port: 80, targetPort: 'http' },
    ]);
  });

  it('renders every role with probes, resources, volumes, RBAC and a config Pharos accepts', () => {
    const out = helm(
      'template',
      'obs',
      CHART,
      '--set',
      'ingester.replicas=3',
      '--set',
      'kafka.brokers=k1:9092',
    );
    const objects = parseAllDocuments(out)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    const get = (kind: string, name: string) => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
      assert.ok(o, `${kind} ${name} rendered`);
      return o;
    };
    const workloads = [
      get('Deployment', 'obs-discovery'),
      get('Deployment', 'obs-scraper'),
      get('StatefulSet', 'obs-ingester'),
      get('Deployment', 'obs-querier'),
      get('Deployment', 'obs-ruler'),
      get('Deployment', 'obs-alertmanager'),
    ];
    for (const [i, w] of workloads.entries()) {
      const pod = (w.spec as { template: { spec: { securityContext?: { runAsNonRoot?: boolean } } } })
        .template.spec;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${w.metadata.name} runs as non-root`);
      const [c] = containers(w);
      assert.equal(c.args[0], `dist/apps/${ROLES[i]}/main.js`);
      assert.equal(c.readinessProbe?.httpGet?.path, '/-/ready', `${w.metadata.name} probes /-/ready`);
      assert.ok(c.resources?.requests?.memory, `${w.metadata.name} has resource requests`);
    }
    const ingester = get('StatefulSet', 'obs-ingester');
    assert.equal((ingester.spec as { replicas: number }).replicas, 3);
    // One pod at a time may go for every role that has more than one.
    for (const component of ['scraper', 'ingester', 'querier', 'alertmanager'])
      assert.equal(
        (get('PodDisruptionBudget', `obs-${component}`).spec as { maxUnavailable: number }).maxUnavailable,
        1,
      );
    assert.equal((get('Deployment', 'obs-querier').spec as { replicas: number }).replicas, 2);
    assert.ok(!objects.some((o) => o.kind === 'ServiceMonitor'), 'no ServiceMonitor unless asked for');
    assert.ok((ingester.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates.length === 1);
    assert.ok(containers(ingester)[0].args.includes('--ingester.instances=3'));
    // The all-in-one's storage flags, so a chart install keeps its volumes from filling.
    for (const flag of [
      '--storage.tsdb.retention.time=15d',
      '--storage.tsdb.retention.size=16GB',
      '--storage.tsdb.out-of-order-time-window=0s',
    ])
      assert.ok(containers(ingester)[0].args.includes(flag), flag);
    assert.ok(
      containers(get('Deployment', 'obs-querier'))[0].args.includes(
        '--ingester.addresses=obs-ingester-0.obs-ingester:9095,obs-ingester-1.obs-ingester:9095,obs-ingester-2.obs-ingester:9095',
      ),
    );
    assert.equal((get('Service', 'obs-ingester').spec as { clusterIP: string }).clusterIP, 'None');
    // The querier gathers rules and alerts from the ruler, through its Service.
    get('Service', 'obs-ruler');
    assert.ok(
      containers(get('Deployment', 'obs-querier'))[0].args.includes('--ruler.addresses=obs-ruler:9095'),
    );
    const role = get('ClusterRole', 'obs-discovery');
    const resources = (role.rules ?? []).flatMap((r) => r.resources);
    for (const r of ['nodes', 'services', 'endpoints', 'pods', 'endpointslices', 'ingresses'])
      assert.ok(resources.includes(r), `discovery may watch ${r}`);
    const config = parsePrometheusConfig(get('ConfigMap', 'obs-config').data?.['prometheus.yml'] ?? '');
    assert.equal(config.scrapeConfigs[0].jobName, 'kubernetes-pods');
    const ruler = parsePrometheusConfig(get('ConfigMap', 'obs-config').data?.['ruler.yml'] ?? '');
    assert.deepEqual(ruler.ruleFiles, ['/etc/pharos/rules/*.yml']);
    assert.equal(ruler.alerting.alertmanagers.length, 0, 'alerts travel over the alert bus');
    const amEnv = (
      get('Deployment', 'obs-alertmanager').spec as {
        template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } };
      }
    ).template.spec.containers[0].env;
    assert.ok(
      amEnv.some((e) => e.name === 'PHAROS_KAFKA_BROKERS' && e.value),
      'the alertmanager consumes the alert bus',
    );
    for (const [file, text] of Object.entries(get('ConfigMap', 'obs-rules').data ?? {}))
      parseRuleFile(text, file);
    parseAlertmanagerConfig(get('ConfigMap', 'obs-alertmanager').data?.['alertmanager.yml'] ?? '');
    assert.equal((get('Deployment', 'obs-alertmanager').spec as { replicas: number }).replicas, 2);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[]; image?: string; profiles?: string[] }>;
  };

  it('runs Kafka, Redis, Consul, every built role, an exporter and Grafana', () => {
    for (const s of ['kafka', 'redis', 'consul', 'node-exporter', 'grafana', 'querier', 'discovery'])
      assert.ok(compose.services[s], `service ${s}`);
    const roles = Object.values(compose.services)
      .map((s) => /^dist\/apps\/(\w+)\/main\.js$/.exec(s.command?.[0] ?? '')?.[1])
      .filter((r): r is string => r !== undefined);
    for (const r of ROLES) assert.ok(roles.includes(r), `a ${r} container`);
    for (const r of roles) assert.ok(existsSync(join(ROOT, 'apps', r, 'project.json')), `${r} is an app`);
    // The ingesters own every partition of the four exactly once.
    const owned = Object.values(compose.services)
      .flatMap((s) => s.command ?? [])
      .flatMap((a) => /^--ingester\.partitions=(.*)$/.exec(a)?.[1].split(',') ?? [])
      .map(Number)
      .sort();
    assert.deepEqual(owned, [0, 1, 2, 3]);
    const grafana = readFileSync(join(ROOT, 'deploy/compose/grafana/datasource.yml'), 'utf8');
    assert.match(grafana, /url: http:\/\/querier:9090/);
    parsePrometheusConfig(readFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8'));
    parseRuleFile(readFileSync(join(ROOT, 'deploy/compose/rules.yml'), 'utf8'), 'rules.yml');
    const am = join(ROOT, 'deploy/compose/alertmanager.yml');
    parseAlertmanagerConfig(readFileSync(am, 'utf8'), am);
    const check = spawnSync(requireBinary('amtool'), ['check-config', am], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('is valid for `docker compose config`', (t) => {
    // The compose plugin of the Docker client where there is one, else Debian's docker-compose
    // (tools/deps.sh installs it); both validate the file against the Compose schema, no engine.
    const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    const standalone = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    const cmd =
      plugin.status === 0 ? ['docker', 'compose'] : standalone.status === 0 ? ['docker-compose'] : null;
    if (cmd === null) {
      t.skip('neither `docker compose` nor `docker-compose` on this machine');
      return;
    }
    const r = spawnSync(cmd[0], [...cmd.slice(1), '-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });
});
