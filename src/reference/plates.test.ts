import { describe, expect, it } from 'vitest';
import { matchPlate, normalisePlate } from './plates.js';

describe('normalisePlate', () => {
  it('upper-cases, maps Cyrillic look-alikes to Latin and strips separators', () => {
    expect(normalisePlate('01 А 123 ВС')).toBe('01A123BC');
    expect(normalisePlate('  01 а 123 вс ')).toBe('01A123BC');
    expect(normalisePlate('30-k_777.ту')).toBe('30K777TY');
    expect(normalisePlate('ЕКМНОРСТХУ')).toBe('EKMHOPCTXY');
  });
});

describe('matchPlate', () => {
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
