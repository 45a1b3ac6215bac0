import { createHash } from 'node:crypto';
import type { RelabelConfig } from '@pharos/config';
import { isValidLabelName, LabelsBuilder, type Labels } from '@pharos/model';
import { expandTemplate } from '@pharos/regex';

/**
 * Applies relabel configs in order, as Prometheus' relabel.Process does. Returns the new label set,
 * or null when a keep/drop step dropped it.
 */
export function relabel(labels: Labels, configs: readonly RelabelConfig[]): Labels | null {
  if (configs.length === 0) return labels;
  const b = new LabelsBuilder(labels);
  for (const cfg of configs) {
    if (!applyOne(b, cfg)) return null;
  }
  return b.labels();
}

/** Applies one step; false means the target or series is dropped. */
export function applyOne(b: LabelsBuilder, cfg: RelabelConfig): boolean {
  const val = cfg.sourceLabels.map((n) => b.get(n)).join(cfg.separator);
  switch (cfg.action) {
    case 'drop':
      return !cfg.regex.matches(val);
    case 'keep':
      return cfg.regex.matches(val);
    case 'dropequal':
      return b.get(cfg.targetLabel) !== val;
    case 'keepequal':
      return b.get(cfg.targetLabel) === val;
    case 'replace': {
      const groups = cfg.regex.exec(val);
      if (groups === null) return true;
      const target = expandTemplate(cfg.targetLabel, groups);
      if (!isValidLabelName(target)) return true;
      const res = expandTemplate(cfg.replacement, groups);
      b.set(target, res);
      return true;
    }
    case 'lowercase':
      b.set(cfg.targetLabel, val.toLowerCase());
      return true;
    case 'uppercase':
      b.set(cfg.targetLabel, val.toUpperCase());
      return true;
    case 'hashmod': {
      // The low 64 bits of the MD5 of the value, modulo the modulus, as upstream.
      const digest = createHash('md5').update(val).digest();
      const low = digest.readBigUInt64BE(8);
      b.set(cfg.targetLabel, String(low % BigInt(cfg.modulus)));
      return true;
    }
    case 'labelmap': {
      for (const l of b.labels()) {
        const groups = cfg.regex.exec(l.name);
        if (groups !== null) b.set(expandTemplate(cfg.replacement, groups), l.value);
      }
      return true;
    }
    case 'labeldrop':
      for (const l of b.labels()) if (cfg.regex.matches(l.name)) b.del(l.name);
      return true;
    case 'labelkeep':
      for (const l of b.labels()) if (!cfg.regex.matches(l.name)) b.del(l.name);
      return true;
  }
}
