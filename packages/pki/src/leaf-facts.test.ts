import test from 'ava';
import { createCA, describeCert, issueClientCert, issueServingCert } from './certs.js';
import { canonicalIP, leafFacts } from './leaf-facts.js';

test('canonicalIP writes each address one way', (t) => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FD00:0:0:0:0:0:0:A', 'fd00::a'],
  ];
  for (const [ip, want] of cases) t.is(canonicalIP(ip), want, ip);
});

test('leafFacts reads what @peculiar/x509 reads, and checks the issuer', async (t) => {
  const ca = await createCA('facts-ca');
  const other = await createCA('other-ca');
  const serving = await issueServingCert(ca, { cn: 'knet-ipam', dnsNames: ['localhost', 'knet.local'], ips: ['127.0.0.1', '::1'] });
  const client = await issueClientCert(ca, { cn: 'system:knet:controller', organizations: ['system:knet'] });
  for (const pem of [serving.cert, client.cert]) {
    const facts = leafFacts(pem, ca.cert);
    const info = await describeCert(pem);
    t.is(facts.commonName, info.commonName);
    t.deepEqual(facts.dnsNames.sort(), info.dnsNames.sort());
    t.deepEqual(facts.ips.sort(), info.ips.map(canonicalIP).sort());
    t.is(facts.notAfter.getTime(), info.notAfter.getTime());
    t.true(facts.signedByCA);
    t.false(leafFacts(pem, other.cert).signedByCA);
  }
  t.deepEqual(leafFacts(serving.cert, ca.cert).ips.sort(), ['127.0.0.1', '::1']);
  t.throws(() => leafFacts('not a certificate', ca.cert));
});
