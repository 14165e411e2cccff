import test from 'ava';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import yaml from 'js-yaml';
import { kubeconfigYaml, loadKubeconfig, kubeconfigPaths } from './kubeconfig.js';

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
