import { describe, expect, it } from 'vitest';
import formatsFile from '../../data/uz-plate-formats.json' with { type: 'json' };
import {
  checkPlate,
  compilePlateRules,
  formatPlate,
  matchPlate,
  normalisePlate,
  type PlateFormatsFile,
} from './plates.js';

/** One module for both uses: the server's match (validate, enrich, intake) and the browser's check as you type. */

describe('normalisePlate', () => {
  it('upper-cases, maps Cyrillic look-alikes to Latin and strips separators', () => {
    expect(normalisePlate('01 А 123 ВС')).toBe('01A123BC');
    expect(normalisePlate('  01 а 123 вс ')).toBe('01A123BC');
    expect(normalisePlate('30-k_777.ту')).toBe('30K777TY');
    expect(normalisePlate('ЕКМНОРСТХУ')).toBe('EKMHOPCTXY');
  });
});

describe('matchPlate (the server)', () => {
  it.each([
    ['01 A 123 BC', 'private', '01'],
    ['01 123 ABC', 'legal', '01'],
    ['01 1234 AB', 'trailer', '01'],
    ['01 123 AB', 'motorcycle', '01'],
    ['T 123456', 'temporary', null],
    ['D 123456', 'diplomatic', null],
    ['X 123456', 'diplomatic', null],
    ['CMD 123', 'diplomatic_head', null],
    ['01 H 123456', 'foreign_individual', '01'],
    ['01 M 123456', 'foreign_company', '01'],
  ])('%s is %s', (example, format, regionCode) => {
    const match = matchPlate(normalisePlate(example));
    expect(match?.format).toBe(format);
    expect(match?.regionCode).toBe(regionCode);
  });

  it('reads a plate typed in Cyrillic as a private Tashkent city plate', () => {
    expect(matchPlate(normalisePlate('01 А 123 ВС'))).toEqual({
      format: 'private',
      regionCode: '01',
      regionName: 'Toshkent shahri (Tashkent city)',
    });
  });

  it('names the region from the code ranges', () => {
    expect(matchPlate('30A123BC')?.regionName).toBe('Samarqand');
    expect(matchPlate('09A123BC')?.regionName).toBe('Toshkent shahri (Tashkent city)');
    expect(matchPlate('10A123BC')?.regionName).toBe('Toshkent viloyati (Tashkent region)');
  });

  it('rejects a region code that is in no range', () => {
    expect(matchPlate('00A123BC')).toBeNull();
    expect(matchPlate('00M123456')).toBeNull();
  });

  it('rejects garbage', () => {
    for (const input of [
      '',
      'HELLO',
      '01A123B',
      '01A123BCD',
      'ABC123',
      '01 A 123 BC',
      '01a123bc',
      'T12345',
    ]) {
      expect(matchPlate(input)).toBeNull();
    }
  });
});

describe('the data file', () => {
  const data = formatsFile as PlateFormatsFile;

  it('is refused when it and the format table drift apart', () => {
    const renamed = { ...data, formats: data.formats.map((f, i) => (i === 0 ? { ...f, type: 'new' } : f)) };
    expect(() => compilePlateRules(renamed)).toThrow('unknown plate format "new"');
    const dropped = { ...data, formats: data.formats.slice(1) };
    expect(() => compilePlateRules(dropped)).toThrow('is missing');
    const badRange = { ...data, region_codes_since_2008: { '1-9': 'Somewhere' } };
    expect(() => compilePlateRules(badRange)).toThrow('bad region code range "1-9"');
  });

  it('is what the rules are compiled from', () => {
    const onlyTashkent = { ...data, region_codes_since_2008: { '01-09': 'Tashkent' } };
    const rules = compilePlateRules(onlyTashkent);
    expect(matchPlate('01A123BC', rules)?.regionName).toBe('Tashkent');
    expect(matchPlate('30A123BC', rules)).toBeNull();
    expect(checkPlate('30 A', rules).state).toBe('invalid');
  });
});

describe('checkPlate (the browser, as the citizen types)', () => {
  it('agrees with the server on every plate of a generated corpus, and never turns a plate red on the way', () => {
    const letters = 'ABCDEHKMOPTXYZ';
    const pick = (s: string) => s[Math.floor(Math.random() * s.length)]!;
    const digits = (n: number) => Array.from({ length: n }, () => pick('0123456789')).join('');
    const corpus = [
      ...formatsFile.formats.map((f) => f.example),
      '01 а 777 aa',
      'т 123456',
      '00A123BC',
      'CMD1234567',
      ...Array.from({ length: 3000 }, () => {
        const shape = pick('LDX');
        const len = 5 + Math.floor(Math.random() * 6);
        return Array.from({ length: len }, (_, i) =>
          shape === 'D' && i < 2 ? pick('0123456789') : pick(`${letters}0123456789`),
        ).join('');
      }),
      ...Array.from(
        { length: 500 },
        () => `${digits(2)}${pick(letters)}${digits(3)}${pick(letters)}${pick(letters)}`,
      ),
    ];
    for (const input of corpus) {
      const server = matchPlate(normalisePlate(input));
      const web = checkPlate(input);
      expect(web.state === 'valid', input).toBe(server !== null);
      if (web.state === 'valid' && server) {
        expect(web.format, input).toBe(server.format);
        // Every beginning of a plate the server accepts could still become one.
        for (let n = 1; n < web.normalised.length; n++) {
          const prefix = web.normalised.slice(0, n);
          expect(checkPlate(prefix).state, `${prefix} (of ${input})`).not.toBe('invalid');
        }
      }
    }
  });

  it('tells a plate still being typed from one that cannot become a plate', () => {
    const state = (s: string) => checkPlate(s).state;
    expect(state('')).toBe('empty');
    for (const p of [
      '0',
      '01',
      '01 A',
      '01 A 7',
      '01 A 777',
      '01 A 777 A',
      'T',
      'T12',
      'CMD',
      'CMD12',
      '01 H 12',
    ])
      expect(state(p), p).toBe('partial');
    for (const p of ['ZZ', 'A1', '00', '01 A 777 AAA', 'T1234567', '01 AB', 'CMDX'])
      expect(state(p), p).toBe('invalid');
    expect(checkPlate('01 а 777 aa')).toMatchObject({
      state: 'valid',
      normalised: '01A777AA',
      format: 'private',
      regionName: 'Toshkent shahri (Tashkent city)',
    });
    expect(checkPlate('80 123 ABC')).toMatchObject({
      state: 'valid',
      format: 'legal',
      regionName: 'Buxoro',
    });
  });

  it('prints a stored plate as it is written on the plate', () => {
    expect(formatPlate('01A777AA')).toBe('01 A 777 AA');
    expect(formatPlate('01123ABC')).toBe('01 123 ABC');
    expect(formatPlate('T123456')).toBe('T 123456');
    expect(formatPlate('WHATEVER')).toBe('WHATEVER');
  });
});
