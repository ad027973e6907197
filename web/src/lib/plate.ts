/**
 * Licence-plate checking as the citizen types, with the server's own rules: the same data file
 * (data/uz-plate-formats.json), the same normalisation and the same order as src/reference/plates.ts. Besides
 * "valid", it tells "could still become valid" from "cannot", so the field turns red only when the typed prefix
 * can no longer be any plate.
 */

export interface PlateFormatsFile {
  region_codes_since_2008: Record<string, string>;
  formats: { type: string; example: string; regex: string }[];
}

export type PlateFormatId =
  | 'private'
  | 'legal'
  | 'trailer'
  | 'motorcycle'
  | 'temporary'
  | 'diplomatic'
  | 'diplomatic_head'
  | 'foreign_individual'
  | 'foreign_company';

/** The data file's format descriptions → our ids (as src/reference/plates.ts FORMAT_IDS). */
const FORMAT_IDS: Record<string, PlateFormatId> = {
  'private (individual), since 2008': 'private',
  'legal entity / organisation, since 2008': 'legal',
  trailer: 'trailer',
  'motorcycle / two-wheeler': 'motorcycle',
  'temporary (region shown at right)': 'temporary',
  'diplomatic (green; D/T/X + 6 digits, first 3 = country)': 'diplomatic',
  'head of diplomatic mission': 'diplomatic_head',
  'foreign individuals (yellow): region + H + 6 digits': 'foreign_individual',
  'foreign companies / joint ventures (green): region + M + 6 digits': 'foreign_company',
};

interface Atom {
  test(c: string): boolean;
  min: number;
  max: number;
}

interface Rule {
  id: PlateFormatId | null;
  regex: RegExp;
  /** The regex's first group is a two-digit region code. */
  hasRegion: boolean;
  /** The regex as a sequence of character classes, for the prefix check; null if it uses syntax we do not read. */
  atoms: Atom[] | null;
  /** Lengths of the example's space-separated groups ("01 A 123 BC" → 2,1,3,2), to print plates the same way. */
  groups: number[];
}

export interface PlateRules {
  rules: Rule[];
  regions: { from: number; to: number; name: string }[];
}

export type PlateCheck =
  | { state: 'empty' }
  | { state: 'partial' }
  | { state: 'invalid' }
  | { state: 'valid'; normalised: string; format: PlateFormatId | null; regionName: string | null };

const CYRILLIC_TO_LATIN: Record<string, string> = {
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  У: 'Y',
};

/** Upper-case Latin without separators, Cyrillic look-alikes mapped (a Russian keyboard layout types them). */
export function normalisePlate(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(/[АВЕКМНОРСТХУ]/g, (c) => CYRILLIC_TO_LATIN[c] ?? c)
    .replace(/[\s\-‐‑‒–—._]/g, '');
}

/** Reads the small regex dialect of the data file: groups, \d, [A-Z]-style classes, letters, {n} and {n,m}. */
function atomsOf(source: string): Atom[] | null {
  const out: Atom[] = [];
  let i = source.startsWith('^') ? 1 : 0;
  const end = source.endsWith('$') ? source.length - 1 : source.length;
  while (i < end) {
    const c = source[i]!;
    if (c === '(' || c === ')') {
      i++;
      continue;
    }
    let test: (ch: string) => boolean;
    if (c === '\\' && source[i + 1] === 'd') {
      test = (ch) => ch >= '0' && ch <= '9';
      i += 2;
    } else if (c === '[') {
      const close = source.indexOf(']', i);
      if (close < 0) return null;
      const cls = new RegExp(`^${source.slice(i, close + 1)}$`);
      test = (ch) => cls.test(ch);
      i = close + 1;
    } else if (/[A-Z0-9]/.test(c)) {
      test = (ch) => ch === c;
      i++;
    } else return null;
    let min = 1;
    let max = 1;
    if (source[i] === '{') {
      const close = source.indexOf('}', i);
      const m = /^(\d+)(,(\d*))?$/.exec(source.slice(i + 1, close));
      if (close < 0 || !m) return null;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      i = close + 1;
    } else if ('?*+'.includes(source[i] ?? '')) return null;
    out.push({ test, min, max });
  }
  return out;
}

/** Whether `s` is the beginning of some string the atoms match. */
function viablePrefix(atoms: Atom[], s: string, ai = 0, si = 0): boolean {
  if (si === s.length) return true;
  const atom = atoms[ai];
  if (!atom) return false;
  for (let k = 0; k <= atom.max; k++) {
    if (k > 0 && !atom.test(s[si + k - 1]!)) return false;
    if (si + k === s.length) return true;
    if (k >= atom.min && viablePrefix(atoms, s, ai + 1, si + k)) return true;
  }
  return false;
}

export function compilePlateRules(data: PlateFormatsFile): PlateRules {
  return {
    rules: data.formats.map((f) => ({
      id: FORMAT_IDS[f.type] ?? null,
      regex: new RegExp(f.regex),
      hasRegion: f.regex.startsWith('^(\\d{2})'),
      atoms: atomsOf(f.regex),
      groups: f.example.split(/\s+/).map((g) => g.length),
    })),
    regions: Object.entries(data.region_codes_since_2008).flatMap(([range, name]) => {
      const m = /^(\d{2})-(\d{2})$/.exec(range);
      return m ? [{ from: Number(m[1]), to: Number(m[2]), name: name.replace(/\s*\(unverified\)/, '') }] : [];
    }),
  };
}

function regionOf(rules: PlateRules, code: string): string | null {
  const n = Number(code);
  return rules.regions.find((r) => n >= r.from && n <= r.to)?.name ?? null;
}

export function checkPlate(rules: PlateRules, input: string): PlateCheck {
  const s = normalisePlate(input);
  if (!s) return { state: 'empty' };
  for (const rule of rules.rules) {
    const m = rule.regex.exec(s);
    if (!m) continue;
    if (!rule.hasRegion) return { state: 'valid', normalised: s, format: rule.id, regionName: null };
    const region = regionOf(rules, m[1]!);
    if (region) return { state: 'valid', normalised: s, format: rule.id, regionName: region };
  }
  const viable = rules.rules.some((rule) => {
    if (!rule.atoms) return true;
    if (rule.hasRegion && s.length >= 2 && !regionOf(rules, s.slice(0, 2))) return false;
    return viablePrefix(rule.atoms, s);
  });
  return { state: viable ? 'partial' : 'invalid' };
}

/** A stored (normalised) plate as it is written on the plate: "01A777AA" → "01 A 777 AA". */
export function formatPlate(rules: PlateRules, plate: string): string {
  const s = normalisePlate(plate);
  for (const rule of rules.rules) {
    if (!rule.regex.test(s) || rule.groups.reduce((a, b) => a + b, 0) !== s.length) continue;
    let at = 0;
    return rule.groups
      .map((n) => {
        const part = s.slice(at, at + n);
        at += n;
        return part;
      })
      .join(' ');
  }
  return s;
}
