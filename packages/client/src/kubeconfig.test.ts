import test from 'ava';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import yaml from 'js-yaml';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeconfigJson, kubeconfigYaml, loadKubeconfig, kubeconfigPaths } from './kubeconfig.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'knet-kubeconfig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('kubeconfigYaml round-trips through loadKubeconfig', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config');
  await writeFile(path, kubeconfigYaml({ server: 'https://127.0.0.1:6443', token: 'tok', caData: PEM, namespace: 'prod' }));
  t.deepEqual(await loadKubeconfig(path), { server: 'https://127.0.0.1:6443', token: 'tok', caData: PEM, namespace: 'prod' });
});

test('kubeconfigJson holds the same document and round-trips through loadKubeconfig', async (t) => {
  const spec = { server: 'https://127.0.0.1:6443', token: 'tok', caData: PEM, namespace: 'prod', user: 'dns' };
  t.deepEqual(JSON.parse(kubeconfigJson(spec)), yaml.load(kubeconfigYaml(spec)));
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, kubeconfigJson(spec));
  t.deepEqual(await loadKubeconfig(path), { server: 'https://127.0.0.1:6443', token: 'tok', caData: PEM, namespace: 'prod' });
});

test('a flow-style YAML kubeconfig that is not JSON is still read as YAML', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config');
  await writeFile(path, '{current-context: a, clusters: [{name: a, cluster: {server: "http://127.0.0.1:1"}}], users: [{name: a, user: {token: t}}], contexts: [{name: a, context: {cluster: a, user: a}}]}\n');
  t.deepEqual(await loadKubeconfig(path), { server: 'http://127.0.0.1:1', token: 't' });
});

test('reading a JSON kubeconfig loads no YAML parser', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'config.json');
  await writeFile(path, kubeconfigJson({ server: 'http://127.0.0.1:1', token: 'tok' }));
  // js-yaml could come in by import (an ESM resolve hook sees it) or by require (require.cache holds it).
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('js-yaml')) process.stdout.write('imported ' + r.url + '\\n'); return r; }`;
  const probe = `import { createRequire, register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { loadKubeconfig } = await import(${JSON.stringify(new URL('./kubeconfig.js', import.meta.url).href)});
    const cfg = await loadKubeconfig(${JSON.stringify(path)});
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('js-yaml'));
    console.log(JSON.stringify({ cfg, loaded }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { timeout: 30_000 });
  t.deepEqual(JSON.parse(stdout.trim()), { cfg: { server: 'http://127.0.0.1:1', token: 'tok' }, loaded: [] });
});

test('kubeconfigYaml writes the shape kubectl reads', (t) => {
  const doc = yaml.load(kubeconfigYaml({ server: 'http://127.0.0.1:6443', user: 'admin', cluster: 'local' })) as Record<string, unknown>;
  t.deepEqual(doc, {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: 'local', cluster: { server: 'http://127.0.0.1:6443' } }],
    users: [{ name: 'admin', user: {} }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'admin' } }],
    'current-context': 'local',
  });
});

test('a kubectl-style kubeconfig: contexts, files relative to the kubeconfig, token-file', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'pki'));
  await writeFile(join(dir, 'pki', 'ca.crt'), PEM);
  await writeFile(join(dir, 'pki', 'client.crt'), 'CERT');
  await writeFile(join(dir, 'pki', 'client.key'), 'KEY');
  await writeFile(join(dir, 'token'), 'file-token\n');
  const path = join(dir, 'config');
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: ca
  cluster:
    server: https://127.0.0.1:1111
    certificate-authority: pki/ca.crt
- name: cb
  cluster:
    server: https://127.0.0.1:2222
    insecure-skip-tls-verify: true
users:
- name: ua
  user:
    client-certificate: pki/client.crt
    client-key: ${join(dir, 'pki', 'client.key')}
- name: ub
  user:
    tokenFile: token
    client-certificate-data: ${Buffer.from('CERTDATA').toString('base64')}
    client-key-data: ${Buffer.from('KEYDATA').toString('base64')}
contexts:
- name: a
  context: {cluster: ca, user: ua}
- name: b
  context: {cluster: cb, user: ub, namespace: kube-system}
`,
  );
  t.deepEqual(await loadKubeconfig(path), { server: 'https://127.0.0.1:1111', caData: PEM, certData: 'CERT', keyData: 'KEY' });
  t.deepEqual(await loadKubeconfig(path, 'b'), {
    server: 'https://127.0.0.1:2222',
    insecureSkipTLSVerify: true,
    token: 'file-token',
    certData: 'CERTDATA',
    keyData: 'KEYDATA',
    namespace: 'kube-system',
  });
});

test('$KUBECONFIG lists are merged, the first file winning; missing files are skipped', async (t) => {
  const dir = await tempDir(t);
  const first = join(dir, 'one');
  const second = join(dir, 'two');
  await writeFile(first, 'contexts:\n- name: x\n  context: {cluster: c, user: u}\n');
  await writeFile(second, `current-context: x\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t2}\ncontexts:\n- name: x\n  context: {cluster: nowhere}\n`);
  const old = process.env.KUBECONFIG;
  process.env.KUBECONFIG = [join(dir, 'missing'), first, second].join(delimiter);
  t.teardown(async () => {
    if (old === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = old;
  });
  t.is(kubeconfigPaths().length, 3);
  t.deepEqual(await loadKubeconfig(), { server: 'http://127.0.0.1:1', token: 't2' });
});

const bad: [string, string, RegExp][] = [
  ['not YAML', 'a: [', /not valid YAML/],
  ['not a mapping', '- 1\n- 2\n', /not a YAML mapping/],
  ['no current context', 'clusters: []\n', /no current-context/],
  ['unknown context', 'current-context: nope\n', /no context named "nope"/],
  ['undefined cluster', 'current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n', /cluster "c", which is not defined/],
  ['cluster without server', 'current-context: x\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\n', /has no server/],
  ['undefined user', 'current-context: x\nclusters:\n- name: c\n  cluster: {server: "http://h"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n', /user "u", which is not defined/],
  ['clusters not a list', 'clusters: {a: 1}\n', /clusters must be a list/],
  ['missing token file', 'current-context: x\nclusters:\n- name: c\n  cluster: {server: "http://h"}\nusers:\n- name: u\n  user: {tokenFile: /nonexistent/token}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n', /tokenFile/],
];
for (const [title, text, msg] of bad) {
  test(`bad kubeconfig (${title}) gives a clear error`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'config');
    await writeFile(path, text);
    await t.throwsAsync(loadKubeconfig(path), { message: msg });
  });
}

test('an explicit path that does not exist is an error naming it', async (t) => {
  await t.throwsAsync(loadKubeconfig('/nonexistent/kubeconfig'), { message: /cannot read kubeconfig \/nonexistent\/kubeconfig/ });
});
