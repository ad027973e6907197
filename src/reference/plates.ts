import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  regionName: string | null;
}

interface PlateFormatsFile {
  region_codes_since_2008: Record<string, string>;
  formats: { type: string; example: string; regex: string }[];
}

/**
 * Our id for each format description in the data file, in matching order: where two regexes overlap, the more
 * specific format comes first ('T' + 6 digits is read as temporary, not as diplomatic-technical).
 * `hasRegion`: the regex's first capture group is the two-digit region code.
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

interface CompiledFormat {
  id: PlateFormat;
  regex: RegExp;
  hasRegion: boolean;
}

interface RegionRange {
  from: number;
  to: number;
  name: string;
}

const PLATE_FORMATS_FILE = fileURLToPath(new URL('../../data/uz-plate-formats.json', import.meta.url));

function loadPlateFormats(file: string): { formats: CompiledFormat[]; regions: RegionRange[] } {
  const data = JSON.parse(readFileSync(file, 'utf8')) as PlateFormatsFile;
  const byType = new Map(data.formats.map((f) => [f.type, f]));
  // Fail at start-up when the data file and this table drift apart, not with silent non-matches later.
  for (const type of byType.keys()) {
    if (!FORMAT_IDS.some((f) => f.type === type)) throw new Error(`${file}: unknown plate format "${type}"`);
  }
  const formats = FORMAT_IDS.map(({ id, type, hasRegion }) => {
    const entry = byType.get(type);
    if (!entry) throw new Error(`${file}: plate format "${type}" is missing`);
    return { id, regex: new RegExp(entry.regex), hasRegion };
  });
  const regions = Object.entries(data.region_codes_since_2008).map(([range, name]) => {
    const m = /^(\d{2})-(\d{2})$/.exec(range);
    if (!m) throw new Error(`${file}: bad region code range "${range}"`);
    return { from: Number(m[1]), to: Number(m[2]), name };
  });
  return { formats, regions };
}

const { formats: FORMATS, regions: REGION_RANGES } = loadPlateFormats(PLATE_FORMATS_FILE);

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

/** The format of a normalised plate and the region its code stands for; null if it is no valid plate. */
export function matchPlate(normalised: string): PlateMatch | null {
  for (const format of FORMATS) {
    const m = format.regex.exec(normalised);
    if (!m) continue;
    if (!format.hasRegion) return { format: format.id, regionCode: null, regionName: null };
    const regionCode = m[1]!;
    const code = Number(regionCode);
    const region = REGION_RANGES.find((r) => code >= r.from && code <= r.to);
    if (!region) return null;
    return { format: format.id, regionCode, regionName: region.name };
  }
  return null;
}
