// Optional cross-check (not run by CI): cdk-nag's AwsSolutions pack over the
// templates of a directory, loaded with CfnInclude, honouring their v2
// `cdk_nag.rules_to_suppress` metadata with v2 semantics (a bare id such as
// AwsSolutions-IAM5 covers every finding of that rule on the resource, e.g.
// AwsSolutions-IAM5[Resource::*]; cdk-nag 3 itself reads no template
// metadata, so this script acknowledges what the metadata lists).
//
//   npm install --prefix /tmp/nag aws-cdk-lib@2.276.0 constructs@10 cdk-nag@3.0.2
//   NODE_PATH=/tmp/nag/node_modules node scripts/cdk-nag.js synth-out
//
// Prints the number of findings before acknowledgements and what stays open
// after them (0 and 0 is the target, docs/rules.md).
const fs = require('fs');
const path = require('path');
const cdk = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const { AwsSolutionsChecks } = require('cdk-nag');
const dir = process.argv[2];
const files = fs.readdirSync(dir).filter(f => f.endsWith('.template.json')).sort();
function run(acks) {
  const outdir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'cdk-nag-'));
  const app = new cdk.App({ outdir });
  for (const f of files) {
    const name = f.replace('.template.json', '');
    const stack = new cdk.Stack(app, name, { synthesizer: new cdk.LegacyStackSynthesizer() });
    const inc = new CfnInclude(stack, 'T', { templateFile: path.join(dir, f) });
    for (const a of acks.filter(a => a.stack === name)) {
      const r = inc.getResource(a.logicalId);
      if (a.warning) cdk.Annotations.of(r).acknowledgeWarning(a.id, a.reason);
      else cdk.Validations.of(r).acknowledge({ id: a.id, reason: a.reason });
    }
  }
  cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try { app.synth(); } catch (e) { /* the report says why */ }
  const out = [];
  const rep = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(rep)) return out;
  for (const p of JSON.parse(fs.readFileSync(rep, 'utf8')).pluginReports) {
    for (const v of p.violations) {
      for (const c of v.violatingConstructs) {
        const [stack, , logicalId] = c.constructPath.split('/');
        out.push({ rule: v.ruleName, stack, logicalId });
      }
    }
  }
  return out;
}
if (process.argv[3] === '--acks') {
  const open = run(JSON.parse(fs.readFileSync(process.argv[4], 'utf8')));
  for (const v of open) console.log('OPEN error', v.rule, `${v.stack}/${v.logicalId}`);
  console.log(`open errors: ${open.length}`);
  process.exit(0);
}
const meta = {};
for (const f of files) {
  const t = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const name = f.replace('.template.json', '');
  for (const [id, r] of Object.entries(t.Resources)) {
    for (const s of ((r.Metadata || {}).cdk_nag || {}).rules_to_suppress || []) {
      (meta[`${name}/${id}`] ||= {})[s.id] = s.reason;
    }
  }
}
const raw = run([]);
const acks = [];
for (const v of raw) {
  const m = meta[`${v.stack}/${v.logicalId}`] || {};
  const reason = m[v.rule] || m[v.rule.split('[')[0]];
  if (reason) acks.push({ stack: v.stack, logicalId: v.logicalId, id: v.rule, reason });
}
for (const [key, ids] of Object.entries(meta)) {
  const [stack, logicalId] = key.split('/');
  for (const [id, reason] of Object.entries(ids)) {
    if (id.startsWith('AwsSolutions-')) acks.push({ stack, logicalId, id: 'AwsSolutions::' + id, reason, warning: true });
  }
}
const ackFile = path.join(fs.mkdtempSync(path.join(require('os').tmpdir(), 'cdk-nag-')), 'acks.json');
fs.writeFileSync(ackFile, JSON.stringify(acks));
const child = require('child_process').spawnSync('node', [__filename, dir, '--acks', ackFile], { encoding: 'utf8', env: process.env });
const warnings = child.stderr.match(/^WARNING .*$/gm) || [];
console.log(`error-level findings before acknowledgements: ${raw.length} (warning-level ones print above)`);
console.log(child.stdout.trim());
console.log(`open warnings in the acknowledged run: ${warnings.length}`);
for (const w of warnings) console.log('  ', w);
