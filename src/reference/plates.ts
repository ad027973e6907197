import formatsFile from '../../data/uz-plate-formats.json' with { type: 'json' };

/**
 * Uzbek licence plates, for the server (validate, enrich, intake) and for the browser (the report form checks the
 * plate as it is typed). Browser-safe on purpose: no Node modules. The data file is imported, so the server reads
 * it from data/ when it starts and the web build bundles it (2 kB); both compile it here, once.
 */

export interface PlateFormatsFile {
  region_codes_since_2008: Record<string, string>;
  formats: { type: string; example: string; regex: string }[];
}

export type PlateFormat =
  | 'private'
  | 'legal'
  | 'trailer'
  | 'motorcycle'
  | 'temporary'
  | 'diplomatic'
  | 'diplomatic_head'
  | 'foreign_individual'
  | 'foreign_company';

export interface PlateMatch {
  format: PlateFormat;
  /** Two-digit region code (01..99) for formats that carry one, else null. */
  regionCode: string | null;
  /** As the data file names it, "(unverified)" included. */
  regionName: string | null;
}

/** A plate as it is being typed: "partial" could still become a plate, "invalid" cannot. */
export type PlateCheck =
  | { state: 'empty' }
  | { state: 'partial' }
  | { state: 'invalid' }
  | { state: 'valid'; normalised: string; format: PlateFormat; regionName: string | null };

/** One character class of a format's regex, repeated min..max times. */
interface Atom {
  test(c: string): boolean;
  min: number;
  max: number;
}

interface CompiledFormat {
  id: PlateFormat;
  regex: RegExp;
  /** The regex's first capture group is the two-digit region code. */
  hasRegion: boolean;
  /** The regex as a sequence of character classes, for the prefix check; null if it uses syntax we do not read. */
  atoms: Atom[] | null;
  /** Lengths of the example's space-separated groups ("01 A 123 BC" → 2,1,3,2), to print plates the same way. */
  groups: number[];
}

export interface PlateRules {
  formats: readonly CompiledFormat[];
  regions: readonly { from: number; to: number; name: string }[];
}

/**
 * Our id for each format description in the data file, in matching order: where two regexes overlap, the more
 * specific format comes first ('T' + 6 digits is read as temporary, not as diplomatic-technical).
 */
const FORMAT_IDS: { id: PlateFormat; type: string; hasRegion: boolean }[] = [
  { id: 'private', type: 'private (individual), since 2008', hasRegion: true },
  { id: 'legal', type: 'legal entity / organisation, since 2008', hasRegion: true },
  { id: 'trailer', type: 'trailer', hasRegion: true },
  { id: 'motorcycle', type: 'motorcycle / two-wheeler', hasRegion: true },
  { id: 'temporary', type: 'temporary (region shown at right)', hasRegion: false },
  { id: 'diplomatic', type: 'diplomatic (green; D/T/X + 6 digits, first 3 = country)', hasRegion: false },
  { id: 'diplomatic_head', type: 'head of diplomatic mission', hasRegion: false },
  { id: 'foreign_individual', type: 'foreign individuals (yellow): region + H + 6 digits', hasRegion: true },
  {
    id: 'foreign_company',
    type: 'foreign companies / joint ventures (green): region + M + 6 digits',
    hasRegion: true,
  },
];

/** Checks the data file against FORMAT_IDS and compiles it; `source` names the file in errors. */
export function compilePlateRules(data: PlateFormatsFile, source = 'data/uz-plate-formats.json'): PlateRules {
  const byType = new Map(data.formats.map((f) => [f.type, f]));
  // Fail at start-up when the data file and this table drift apart, not with silent non-matches later.
  for (const type of byType.keys()) {
    if (!FORMAT_IDS.some((f) => f.type === type))
      throw new Error(`${source}: unknown plate format "${type}"`);
  }
  const formats = FORMAT_IDS.map(({ id, type, hasRegion }) => {
    const entry = byType.get(type);
    if (!entry) throw new Error(`${source}: plate format "${type}" is missing`);
    return {
      id,
      regex: new RegExp(entry.regex),
      hasRegion,
      atoms: atomsOf(entry.regex),
      groups: entry.example.split(/\s+/).map((g) => g.length),
    };
  });
  const regions = Object.entries(data.region_codes_since_2008).map(([range, name]) => {
    const m = /^(\d{2})-(\d{2})$/.exec(range);
    if (!m) throw new Error(`${source}: bad region code range "${range}"`);
    return { from: Number(m[1]), to: Number(m[2]), name };
  });
  return { formats, regions };
}

/** data/uz-plate-formats.json, compiled when this module loads: a drifted file stops the server at start-up. */
export const PLATE_RULES: PlateRules = compilePlateRules(formatsFile);

// Cyrillic letters that look like Latin plate letters; people type plates on a Russian keyboard layout.
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
const CYRILLIC_LOOKALIKE = /[АВЕКМНОРСТХУ]/g;
const SEPARATORS = /[\s\-‐‑‒–—._]/g;

/** Upper-case Latin, no separators: the form plates are stored and compared in. */
export function normalisePlate(input: string): string {
  return input
    .trim()
    .toUpperCase()
    .replace(CYRILLIC_LOOKALIKE, (c) => CYRILLIC_TO_LATIN[c] ?? c)
    .replace(SEPARATORS, '');
}

function regionOf(rules: PlateRules, code: string): string | null {
  const n = Number(code);
  return rules.regions.find((r) => n >= r.from && n <= r.to)?.name ?? null;
}

/** The format of a normalised plate and the region its code stands for; null if it is no valid plate. */
export function matchPlate(normalised: string, rules: PlateRules = PLATE_RULES): PlateMatch | null {
  for (const format of rules.formats) {
    const m = format.regex.exec(normalised);
    if (!m) continue;
    if (!format.hasRegion) return { format: format.id, regionCode: null, regionName: null };
    const regionCode = m[1]!;
    const regionName = regionOf(rules, regionCode);
    if (!regionName) return null;
    return { format: format.id, regionCode, regionName };
  }
  return null;
}

/**
 * The plate as the citizen types it. Besides "valid" it tells "could still become valid" from "cannot", so the
 * field turns red only when the typed prefix can no longer be any plate.
 */
export function checkPlate(input: string, rules: PlateRules = PLATE_RULES): PlateCheck {
  const s = normalisePlate(input);
  if (!s) return { state: 'empty' };
  const match = matchPlate(s, rules);
  if (match) {
    // "(unverified)" is about our source for the code ranges, not something to tell the citizen.
    const regionName = match.regionName?.replace(/\s*\(unverified\)/, '') ?? null;
    return { state: 'valid', normalised: s, format: match.format, regionName };
  }
  const viable = rules.formats.some((format) => {
    if (!format.atoms) return true;
    if (format.hasRegion && s.length >= 2 && !regionOf(rules, s.slice(0, 2))) return false;
    return viablePrefix(format.atoms, s);
  });
  return { state: viable ? 'partial' : 'invalid' };
}

/** A stored (normalised) plate as it is written on the plate: "01A777AA" → "01 A 777 AA". */
export function formatPlate(plate: string, rules: PlateRules = PLATE_RULES): string {
  const s = normalisePlate(plate);
  for (const format of rules.formats) {
    if (!format.regex.test(s) || format.groups.reduce((a, b) => a + b, 0) !== s.length) continue;
    let at = 0;
    return format.groups
      .map((n) => {
        const part = s.slice(at, at + n);
        at += n;
        return part;
      })
      .join(' ');
  }
  return s;
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
