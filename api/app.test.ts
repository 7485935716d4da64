// The API over cubes built from data/sample by the real clean/join/cube functions: values against
// the source CSVs, every response against the OpenAPI document, and every kind of bad input.
import { Validator } from '@seriousme/openapi-schema-validator';
import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Api } from './app.ts';
import { CUBE_ENDPOINTS_ALL } from './endpoints.ts';
import {
  SAMPLE_DATE,
  openApiChecker,
  sampleCsv,
  sampleCubeDb,
  type ResponseLike,
} from '../test/api/support.ts';

let api: Api;
let server: http.Server;
let remove: () => void;
let check: (template: string, res: ResponseLike) => string[];

beforeAll(async () => {
  const db = await sampleCubeDb();
  remove = db.remove;
  api = createApp({ cubeDbPath: db.cubeDbPath });
  check = openApiChecker(api.document);
  server = api.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  api.close();
  remove();
});

/** GET through the real server; the response must conform to the document for `template`. */
async function get(url: string, template: string, headers: Record<string, string> = {}) {
  const res = await request(server).get(url).set(headers);
  expect(check(template, res), `${url} -> ${res.status} ${res.text?.slice(0, 200)}`).toEqual([]);
  return res;
}

/** Sends raw request bytes (for what an HTTP client library refuses to send). */
function rawRequest(raw: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { port } = server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1', () => socket.end(raw));
    let data = '';
    socket.setEncoding('latin1').on('data', (d) => (data += d));
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.on('error', reject);
  });
}

type Row = Record<string, unknown>;
const num = (text: string | undefined): number | null => {
  const n = Number(text);
  return text === undefined || text.trim() === '' || Number.isNaN(n) ? null : n;
};

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document and is what /openapi.json serves', async () => {
    const res = await get('/openapi.json', '/openapi.json');
    expect(res.body).toEqual(api.document);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(api.document) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every cube endpoint derived from the catalogue', () => {
    for (const endpoint of CUBE_ENDPOINTS_ALL)
      expect(api.document.paths[endpoint.path]?.get.operationId).toBe(endpoint.operationId);
    expect(Object.keys(api.document.paths)).toEqual(
      expect.arrayContaining([
        '/api/cubes',
        '/api/cubes/income',
        '/healthz',
        '/readyz',
        '/metrics',
        '/openapi.json',
      ]),
    );
  });
});

describe('GET /api/health-insurance/{ageGroup}', () => {
  const csv = sampleCsv('health_insurance');
  const labels = {
    'under-18': 'Under 18 years',
    '18-34': '18 to 34 years',
    '35-64': '35 to 64 years',
    '65-plus': '65 years and over',
  };

  it.each(Object.entries(labels))(
    '%s: totals and uninsured equal the CSV estimates for every neighborhood',
    async (slug, label) => {
      const res = await get(`/api/health-insurance/${slug}?limit=1000`, '/api/health-insurance/{ageGroup}');
      const rows = res.body.data as Row[];
      expect(rows).toHaveLength(91);
      expect(res.body.meta).toMatchObject({
        date: SAMPLE_DATE,
        count: 91,
        total: 91,
        limit: 1000,
        offset: 0,
        filters: { ageGroup: slug },
      });
      for (const row of rows) {
        const source = csv.get(row.neighborhood as string)!;
        expect(source, String(row.neighborhood)).toBeDefined();
        expect(row.total).toBe(num(source[`Estimate; ${label}:`]));
        expect(row.uninsured).toBe(num(source[`Estimate; ${label}: - No health insurance coverage`]));
        const coverage = row.coverage as Record<string, number | null>;
        expect(coverage.none).toBe(row.uninsured);
        if (row.total === 0 || row.total === null) expect(row.uninsuredRate).toBeNull();
        else expect(row.uninsuredRate).toBeCloseTo((row.uninsured as number) / (row.total as number), 12);
        if (Object.values(coverage).every((v) => v !== null) && row.total !== null) {
          expect(coverage.private! + coverage.public! + coverage.both! + coverage.none!).toBe(row.total);
        }
      }
    },
  );

  it('sorts by a field, descending with "-", nulls last', async () => {
    const res = await get(
      '/api/health-insurance/18-34?sort=-uninsuredRate&limit=1000',
      '/api/health-insurance/{ageGroup}',
    );
    const rates = (res.body.data as Row[]).map((r) => r.uninsuredRate as number | null);
    const known = rates.filter((r) => r !== null);
    expect(known).toEqual([...known].sort((a, b) => b - a));
    expect(rates.slice(known.length).every((r) => r === null)).toBe(true);
    expect(res.body.meta.sort).toBe('-uninsuredRate,neighborhood');
  });

  it('filters by neighborhood, case-insensitively', async () => {
    const res = await get(
      '/api/health-insurance/65-plus?neighborhood=allegheny%20center',
      '/api/health-insurance/{ageGroup}',
    );
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0].neighborhood).toBe('Allegheny Center');
    expect(res.body.meta.filters).toEqual({ ageGroup: '65-plus', neighborhood: 'allegheny center' });
  });

  it('answers 404 for an unknown age group', async () => {
    const res = await get('/api/health-insurance/12-20', '/api/health-insurance/{ageGroup}');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/ageGroup.*under-18, 18-34, 35-64, 65-plus/);
  });
});

describe('GET /api/income', () => {
  const income = sampleCsv('income');
  const population = sampleCsv('population');

  it('has population, aggregate and per-capita income of every neighborhood; unknown income stays null', async () => {
    const res = await get('/api/income?limit=1000', '/api/income');
    const rows = res.body.data as Row[];
    expect(rows).toHaveLength(91);
    for (const row of rows) {
      const name = row.neighborhood as string;
      expect(row.population).toBe(num(population.get(name)![`Estimate; Total`]));
      const aggregate = num(income.get(name)![Object.keys(income.get(name)!)[2]!]);
      expect(row.aggregateIncome).toBe(aggregate);
      if (aggregate === null || !row.population) {
        expect(row.perCapitaIncome).toBeNull();
      } else {
        expect(row.perCapitaIncome).toBeCloseTo(aggregate / (row.population as number), 6);
        expect([1, 2, 3, 4, 5]).toContain(row.incomeBracket);
      }
    }
    const byName = new Map(rows.map((r) => [r.neighborhood, r]));
    for (const name of ['Chateau', 'South Shore']) {
      expect(byName.get(name)).toMatchObject({
        aggregateIncome: null,
        perCapitaIncome: null,
        incomeBracket: null,
      });
      expect(typeof byName.get(name)!.population).toBe('number');
    }
  });

  it('pages with limit and offset over a stable order', async () => {
    const all = (await get('/api/income?limit=1000', '/api/income')).body.data as Row[];
    const page = await get('/api/income?limit=10&offset=20', '/api/income');
    expect(page.body.data).toEqual(all.slice(20, 30));
    expect(page.body.meta).toMatchObject({ count: 10, total: 91, limit: 10, offset: 20 });
    const past = await get('/api/income?offset=500', '/api/income');
    expect(past.body.data).toEqual([]);
    expect(past.body.meta).toMatchObject({ count: 0, total: 91 });
    const defaults = await get('/api/income', '/api/income');
    expect(defaults.body.meta).toMatchObject({
      limit: 100,
      offset: 0,
      date: SAMPLE_DATE,
      sort: 'neighborhood',
    });
  });

  it('serves CSV with ?format=csv, null as an empty cell', async () => {
    const res = await get('/api/income?format=csv&neighborhood=Chateau', '/api/income');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const [header, line] = res.text.trim().split('\r\n');
    expect(header).toBe('neighborhood,population,aggregateIncome,perCapitaIncome,incomeBracket');
    expect(line).toMatch(/^Chateau,\d+,,,$/);
  });

  it('accepts ?date= of a built date and says which dates exist for another', async () => {
    expect((await get(`/api/income?date=${SAMPLE_DATE}&limit=1`, '/api/income')).status).toBe(200);
    const res = await get('/api/income?date=2001-01-01', '/api/income');
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: 'date_not_found', message: expect.stringContaining(SAMPLE_DATE) });
  });
});

describe('GET /api/self-employment', () => {
  const csv = sampleCsv('self_employment');
  it('has households and those with self-employment income of every neighborhood', async () => {
    const res = await get('/api/self-employment?limit=1000', '/api/self-employment');
    expect(res.body.data).toHaveLength(91);
    for (const row of res.body.data as Row[]) {
      const source = csv.get(row.neighborhood as string)!;
      expect(row.households).toBe(num(source['Estimate; Total:']));
      expect(row.withSelfEmploymentIncome).toBe(
        num(source['Estimate; Total: - With self-employment income']),
      );
      expect(row.withoutSelfEmploymentIncome).toBe(
        num(source['Estimate; Total: - No self-employment income']),
      );
      if (!row.households || row.withSelfEmploymentIncome === null) expect(row.selfEmploymentRate).toBeNull();
      else
        expect(row.selfEmploymentRate).toBeCloseTo(
          (row.withSelfEmploymentIncome as number) / (row.households as number),
          12,
        );
    }
  });
});

describe('GET /api/cubes and /api/cubes/{name}', () => {
  it('lists the catalogue with dimensions, measures and dates', async () => {
    const res = await get('/api/cubes', '/api/cubes');
    expect(res.body.data.map((c: Row) => c.name)).toEqual(['health_insurance', 'income', 'self_employment']);
    for (const cube of res.body.data as Row[]) expect(cube.dates).toEqual([SAMPLE_DATE]);
    expect(res.body.meta).toEqual({ date: SAMPLE_DATE, count: 3, total: 3 });
  });

  it('serves the city roll-up with ?grain=city', async () => {
    const res = await get('/api/cubes/income?grain=city', '/api/cubes/income');
    expect(res.body.data).toHaveLength(1);
    const city = res.body.data[0] as Row;
    expect(city).toMatchObject({
      grain: 'city',
      neighborhood: null,
      income_bracket: null,
      date: SAMPLE_DATE,
    });
    const rows = (await get('/api/income?limit=1000', '/api/income')).body.data as Row[];
    const known = rows.filter((r) => r.population !== null);
    expect(city.population).toBeLessThanOrEqual(known.reduce((s, r) => s + (r.population as number), 0));
  });

  it('filters by every dimension', async () => {
    const brackets = await get(
      '/api/cubes/health_insurance?grain=income_bracket&age_group=18_34&income_bracket=3',
      '/api/cubes/health_insurance',
    );
    expect(brackets.body.data).toHaveLength(1);
    expect(brackets.body.data[0]).toMatchObject({
      grain: 'income_bracket',
      age_group: '18_34',
      income_bracket: 3,
    });
    const one = await get('/api/cubes/self_employment?neighborhood_id=1', '/api/cubes/self_employment');
    expect(one.body.data).toHaveLength(1);
    expect(one.body.data[0].neighborhood).toBe('Allegheny Center');
  });

  it('answers 404 with the list of cubes for an unknown cube', async () => {
    const res = await request(server).get('/api/cubes/population');
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({
      code: 'unknown_cube',
      message: expect.stringContaining('health_insurance, income, self_employment'),
    });
  });
});

describe('HTTP behaviour', () => {
  it('gives a strong ETag and answers 304 to If-None-Match, also from the cache fast path', async () => {
    const first = await get('/api/income?limit=5', '/api/income');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=300');
    const again = await get('/api/income?limit=5', '/api/income');
    expect(again.headers.etag).toBe(etag);
    expect(again.text).toBe(first.text);
    const notModified = await get('/api/income?limit=5', '/api/income', {
      'If-None-Match': `"other", W/${etag}`,
    });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    const other = await get('/api/income?limit=6', '/api/income');
    expect(other.headers.etag).not.toBe(etag);
  });

  it('serves the same headers from the fast path as from Express', async () => {
    const url = '/api/self-employment?sort=-households&limit=7';
    const slow = await request(server).get(url);
    const fast = await request(server).get(url);
    const strip = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
    expect(strip(fast.headers)).toEqual(strip(slow.headers));
    expect(fast.text).toBe(slow.text);
  });

  it('answers HEAD like GET without a body, from Express and from the fast path', async () => {
    const get = await request(server)
      .get('/api/cubes/income?grain=income_bracket')
      .set('Accept-Encoding', 'identity');
    for (let i = 0; i < 2; i++) {
      const head = await request(server)
        .head('/api/cubes/income?grain=income_bracket')
        .set('Accept-Encoding', 'identity');
      expect(head.status).toBe(200);
      expect(head.headers.etag).toBe(get.headers.etag);
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect(head.text ?? '').toBe('');
    }
  });

  it('gzips on Accept-Encoding, with its own ETag and Vary', async () => {
    const res = await request(server).get('/api/income?limit=1000').set('Accept-Encoding', 'gzip');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toContain('Accept-Encoding');
    expect(res.headers.etag).toMatch(/-gz"$/);
    expect(res.body.data).toHaveLength(91);
    const identity = await request(server)
      .get('/api/income?limit=1000')
      .set('Accept-Encoding', 'gzip;q=0, identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
  });

  it('sets helmet security headers and CORS', async () => {
    const res = await request(server).get('/healthz').set('Origin', 'http://example.test');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const preflight = await request(server)
      .options('/api/income')
      .set('Origin', 'http://example.test')
      .set('Access-Control-Request-Method', 'GET');
    expect(preflight.status).toBe(204);
  });

  it('restricts CORS to the configured origins', async () => {
    const db = await sampleCubeDb();
    const restricted = createApp({ cubeDbPath: db.cubeDbPath, corsOrigin: 'http://a.test,http://b.test' });
    try {
      const ok = await request(restricted.handler).get('/api/income?limit=1').set('Origin', 'http://b.test');
      expect(ok.headers['access-control-allow-origin']).toBe('http://b.test');
      const other = await request(restricted.handler)
        .get('/api/income?limit=1')
        .set('Origin', 'http://evil.test');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      restricted.close();
      db.remove();
    }
  });

  it('has liveness, readiness and metrics by route template and status', async () => {
    expect((await get('/healthz', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await get('/readyz', '/readyz')).body).toEqual({ status: 'ready', date: SAMPLE_DATE });
    await request(server).get('/api/health-insurance/18-34?limit=3');
    await request(server).get('/api/health-insurance/18-34?limit=3');
    const metrics = await get('/metrics', '/metrics');
    expect(metrics.text).toMatch(
      /http_requests_total\{[^}]*route="\/api\/health-insurance\/\{ageGroup\}"[^}]*status="200"[^}]*\} [1-9]/,
    );
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/income"/);
    expect(metrics.text).toMatch(/api_response_cache_lookups_total\{[^}]*result="hit"[^}]*\} [1-9]/);
  });

  it('serves Swagger UI from the installed package at /docs/', async () => {
    const redirect = await request(server).get('/docs');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/');
    const page = await request(server).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui-bundle.js');
    const init = await request(server).get('/docs/swagger-ui-init.js');
    expect(init.text).toContain('/api/health-insurance/{ageGroup}');
    const bundle = await request(server).get('/docs/swagger-ui-bundle.js').set('Accept-Encoding', 'gzip');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-encoding']).toBe('gzip');
  });
});

describe('bad input: a 4xx JSON error that says what was wrong, never a 5xx or a stack', () => {
  const cases: [string, string, number, string, RegExp][] = [
    ['/api/health-insurance/{ageGroup}', '/api/health-insurance/18-35', 404, 'not_found', /ageGroup/],
    ['/api/cubes/income', '/api/cubes/nope', 404, 'unknown_cube', /unknown cube "nope"/],
    [
      '/api/income',
      '/api/income?foo=1',
      400,
      'unknown_parameter',
      /unknown query parameter "foo"; allowed: date, neighborhood/,
    ],
    [
      '/api/income',
      '/api/income?limit=1&limit=2',
      400,
      'repeated_parameter',
      /"limit" is given more than once/,
    ],
    [
      '/api/income',
      '/api/income?sort=income',
      400,
      'invalid_parameter',
      /"sort" must be one of neighborhood, -neighborhood/,
    ],
    ['/api/income', '/api/income?sort=-uninsuredRate', 400, 'invalid_parameter', /"sort" must be one of/],
    ['/api/income', '/api/income?limit=-1', 400, 'invalid_parameter', /"limit" must be >= 1/],
    ['/api/income', '/api/income?limit=0', 400, 'invalid_parameter', /"limit" must be >= 1/],
    ['/api/income', '/api/income?limit=1001', 400, 'invalid_parameter', /"limit" must be <= 1000/],
    ['/api/income', '/api/income?limit=99999999999999999999', 400, 'invalid_parameter', /"limit"/],
    [
      '/api/income',
      '/api/income?limit=1e3',
      400,
      'invalid_parameter',
      /"limit" must be a non-negative decimal integer/,
    ],
    ['/api/income', '/api/income?offset=-5', 400, 'invalid_parameter', /"offset" must be >= 0/],
    ['/api/income', '/api/income?format=xml', 400, 'invalid_parameter', /"format" must be one of json, csv/],
    [
      '/api/income',
      '/api/income?date=2015-02-30',
      400,
      'invalid_parameter',
      /"date" must be a calendar date/,
    ],
    ['/api/income', '/api/income?date=yesterday', 400, 'invalid_parameter', /"date" must be a calendar date/],
    ['/api/income', '/api/income?neighborhood=', 400, 'invalid_parameter', /"neighborhood"/],
    [
      '/api/income',
      '/api/income?neighborhood=Atlantis',
      404,
      'unknown_neighborhood',
      /no neighborhood named "Atlantis"/,
    ],
    [
      '/api/income',
      '/api/income?neighborhood=%E0%A4%A',
      400,
      'malformed_encoding',
      /not valid percent-encoded UTF-8/,
    ],
    [
      '/api/income',
      '/api/income?neighborhood=%C3%28',
      400,
      'malformed_encoding',
      /not valid percent-encoded UTF-8/,
    ],
    [
      '/api/income',
      '/api/income?neighborhood=%FF%FE',
      400,
      'malformed_encoding',
      /not valid percent-encoded UTF-8/,
    ],
    ['/api/income', '/api/income?neighborhood=a%00b', 400, 'invalid_character', /control character/],
    [
      '/api/cubes/income',
      '/api/cubes/income?grain=county',
      400,
      'invalid_parameter',
      /"grain" must be one of neighborhood, income_bracket, city/,
    ],
    [
      '/api/cubes/income',
      '/api/cubes/income?income_bracket=6',
      400,
      'invalid_parameter',
      /"income_bracket" must be one of 1, 2, 3, 4, 5/,
    ],
    ['/api/cubes/income', '/api/cubes/income?age_group=18_34', 400, 'unknown_parameter', /"age_group"/],
    ['/api/cubes', '/api/cubes?limit=5', 400, 'unknown_parameter', /this endpoint takes no parameters/],
    ['/healthz', '/healthz?x=%zz', 400, 'malformed_encoding', /not valid percent-encoded/],
  ];

  it.each(cases)('%s: %s -> %i %s', async (template, url, status, code, message) => {
    const res = await get(url, template);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
  });

  it.each([
    ['/api/cubes/..%2F..%2Fetc%2Fpasswd', 'invalid_path'],
    ['/api/cubes/income%2F..%2F..%2Fsecret', 'invalid_path'],
    ['/api/health-insurance/..%5C..%5Cwin.ini', 'invalid_path'],
    ['/api/../../etc/passwd', 'invalid_path'],
    ['/api/%2e%2e/%2e%2e/etc/passwd', 'invalid_path'],
    ['/api/health-insurance/%E0%A4%A', 'malformed_path'],
  ])('path traversal and malformed paths: %s -> 400 %s', async (path, code) => {
    const res = await rawRequest(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe(code);
  });

  it('rejects raw non-ASCII bytes in the URL', async () => {
    const res = await rawRequest(
      Buffer.concat([
        Buffer.from('GET /api/income?neighborhood='),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ]),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('malformed_encoding');
  });

  it('rejects an over-long URL, a GET with a body and oversized headers, as the document says', async () => {
    const long = await request(server).get(`/api/income?neighborhood=${'a'.repeat(5000)}`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe('uri_too_long');
    const body = await rawRequest(
      'GET /api/income HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    );
    expect(body.status).toBe(413);
    const headers = await rawRequest(
      `GET /api/income HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
    );
    expect(headers.status).toBe(431);
    for (const status of [long.status, body.status, headers.status]) {
      for (const [path, item] of Object.entries(api.document.paths)) {
        expect(item.get.responses, `${path} documents ${status}`).toHaveProperty(String(status));
      }
    }
  });

  const injections = [
    "' OR '1'='1",
    '1; DROP TABLE cube_income; --',
    '" OR ""="',
    '1 UNION SELECT name, sql FROM sqlite_master --',
    "income'); ATTACH DATABASE '/tmp/x.db' AS x; --",
    'neighborhood) OR (1=1',
  ];
  const templates = CUBE_ENDPOINTS_ALL.map((e) => e.path);

  it.each(templates)('SQL injection in every parameter of %s is a 4xx', async (template) => {
    const params = api.document.paths[template]!.get.parameters;
    for (const injection of injections) {
      for (const param of params) {
        const value = encodeURIComponent(injection);
        const url =
          param.in === 'path'
            ? template.replace(`{${param.name}}`, value)
            : `${template.replace('{ageGroup}', '18-34')}?${param.name}=${value}`;
        const res = await get(url, template);
        expect(res.status, url).toBeGreaterThanOrEqual(400);
        expect(res.status, url).toBeLessThan(500);
        expect(res.body.error.message, url).toMatch(
          param.in === 'path' ? /ageGroup|path/ : new RegExp(param.name),
        );
        expect(res.text).not.toMatch(/\n\s+at /);
      }
    }
    // The data is intact.
    const income = await get('/api/income?limit=1', '/api/income');
    expect(income.body.meta.total).toBe(91);
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    for (const url of ['/nope', '/api', '/api/incomes', '/docs/nothing-here.js']) {
      const res = await request(server).get(url);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it.each(['post', 'put', 'patch', 'delete'] as const)('answers %s with 405 and Allow', async (method) => {
    for (const url of [
      '/api/income',
      '/api/health-insurance/18-34',
      '/api/cubes',
      '/api/cubes/income',
      '/healthz',
      '/docs/',
    ]) {
      const res = await request(server)[method](url).send({ a: 1 });
      expect(res.status, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.body.error.code).toBe('method_not_allowed');
    }
  });

  it('answers 405 on every path of the routers (every documented one, /docs), 404 elsewhere', async () => {
    const documented = Object.keys(api.document.paths).map((p) => p.replace('{ageGroup}', '65-plus'));
    for (const url of [...documented, '/docs', '/docs/swagger-ui.css', '/api/cubes/nope']) {
      const res = await request(server).delete(url);
      expect(res.status, url).toBe(405);
    }
    for (const url of ['/nope', '/api/incomes', '/docsx']) {
      const res = await request(server).delete(url);
      expect(res.status, url).toBe(404);
    }
  });
});
