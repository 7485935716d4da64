// Plausible, unique neighborhood names for any number of Ids: "<prefix> <stem> <suffix>" drawn
// through a seeded bijection of the Id, so the first PREFIXES*STEMS*SUFFIXES Ids never collide;
// beyond that a ward number is appended ("Upper Beechwood Heights 2"), which keeps all N unique.

const PREFIXES = [
  '',
  'North',
  'South',
  'East',
  'West',
  'Upper',
  'Lower',
  'Central',
  'Old',
  'New',
  'Mount',
  'Fort',
  'Little',
  'Greater',
  'Lake',
  'Glen',
] as const;

const STEMS = [
  'Allegheny',
  'Arlington',
  'Banksville',
  'Beechwood',
  'Bloomfield',
  'Brighton',
  'Brookline',
  'Carrick',
  'Chartiers',
  'Crafton',
  'Duquesne',
  'Elliott',
  'Fairywood',
  'Fineview',
  'Friendship',
  'Garfield',
  'Greenfield',
  'Hazelwood',
  'Highland',
  'Homewood',
  'Knoxville',
  'Larimer',
  'Lawrence',
  'Lincoln',
  'Manchester',
  'Morningside',
  'Oakland',
  'Overbrook',
  'Perry',
  'Polish',
  'Regent',
  'Ridgemont',
  'Shadyside',
  'Sheraden',
  'Squirrel',
  'Stanton',
  'Summer',
  'Swisshelm',
  'Troy',
  'Westwood',
  'Windgap',
  'Ashford',
  'Belmont',
  'Cedar',
  'Clifton',
  'Dorset',
  'Edgewood',
  'Fairmount',
  'Fox',
  'Hampton',
  'Hawthorne',
  'Kingsley',
  'Laurel',
  'Linden',
  'Maple',
  'Meadow',
  'Millbrook',
  'Northgate',
  'Oakmont',
  'Orchard',
  'Pine',
  'Quarry',
  'Riverside',
  'Rosedale',
  'Spruce',
  'Stonebridge',
  'Sycamore',
  'Thornbury',
  'Valley',
  'Walnut',
  'Willow',
  'Woodland',
] as const;

const SUFFIXES = [
  '',
  'Heights',
  'Hill',
  'Park',
  'Square',
  'Flats',
  'Village',
  'Gardens',
  'Terrace',
  'Grove',
  'Ridge',
  'Slopes',
  'Commons',
  'Crossing',
  'Point',
  'Meadows',
] as const;

export const DISTINCT_BASE_NAMES = PREFIXES.length * STEMS.length * SUFFIXES.length;

/** An odd multiplier coprime with DISTINCT_BASE_NAMES makes (a*i + b) mod N a bijection. */
function coprimeMultiplier(seed: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  let a = (seed % (DISTINCT_BASE_NAMES - 1)) + 1;
  while (gcd(a, DISTINCT_BASE_NAMES) !== 1) a++;
  return a;
}

/** Name source for one seed; `nameOf(id)` is pure and O(1). */
export function neighborhoodNamer(seed: number): (id: number) => string {
  const a = coprimeMultiplier(seed >>> 8);
  const b = seed % DISTINCT_BASE_NAMES;
  return (id: number): string => {
    const index = id - 1;
    const slot = (a * (index % DISTINCT_BASE_NAMES) + b) % DISTINCT_BASE_NAMES;
    const ward = Math.floor(index / DISTINCT_BASE_NAMES);
    const prefix = PREFIXES[slot % PREFIXES.length] as string;
    const stem = STEMS[Math.floor(slot / PREFIXES.length) % STEMS.length] as string;
    const suffix = SUFFIXES[Math.floor(slot / (PREFIXES.length * STEMS.length))] as string;
    let name = prefix === '' ? stem : `${prefix} ${stem}`;
    if (suffix !== '') name += ` ${suffix}`;
    return ward === 0 ? name : `${name} ${ward + 1}`;
  };
}
