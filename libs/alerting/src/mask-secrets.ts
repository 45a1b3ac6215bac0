import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { indentQuotedContinuations } from '@pharos/config';
import { redactURL } from './integrations/http.js';

/** Fields whose values are secrets upstream (config.Secret, SecretURL): shown as <secret>. */
const SECRET_KEYS = new Set([
  'smtp_auth_password',
  'smtp_auth_secret',
  'slack_api_url',
  'auth_password',
  'auth_secret',
  'api_url',
  'routing_key',
  'service_key',
  'password',
  'credentials',
  'url',
  'pagerduty_url',
]);

function walk(node: Node | null | undefined, inSecretParent: boolean): void {
  if (!node) return;
  if (isMap(node)) {
    for (const item of node.items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      if (
        SECRET_KEYS.has(key) &&
        isScalar(item.value) &&
        item.value.value !== null &&
        item.value.value !== ''
      ) {
        if (key === 'url') {
          // A webhook URL often carries a token in its path or query. Its scheme and host stay
          // readable so that older amtool versions, which parse the URL, still load the config.
          if (inSecretParent) item.value.value = redactURL(String(item.value.value), '<secret>');
        } else if (key !== 'pagerduty_url') {
          item.value.value = '<secret>';
        }
      }
      walk(item.value as Node, key === 'webhook_configs');
    }
  } else if (isSeq(node)) {
    for (const item of node.items) walk(item as Node, inSecretParent);
  }
}

/** The config as /api/v2/status shows it: as written, with every secret replaced by <secret>. */
export function maskSecrets(text: string): string {
  // The file loaded the go-yaml way, so it is read the same way here.
  const doc = parseDocument(indentQuotedContinuations(text));
  walk(doc.contents as Node | null, false);
  return doc.toString();
}
