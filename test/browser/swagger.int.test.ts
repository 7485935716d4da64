// Swagger UI at /docs, in headless Chromium, on the real API over the sample's cubes: it lists every
// operation of the OpenAPI document with no warning box, and "Try it out" on /api/income returns 200
// with rows.
import { describe, expect, it } from 'vitest';
import { useApi } from './api-server.ts';
import { checkPage, useBrowser, watchedPage } from './browser.ts';

const api = useApi();
const browser = useBrowser();

describe('Swagger UI (/docs)', () => {
  it('lists every operation of the OpenAPI document, without warnings', async () => {
    const document = (await (await fetch(`${api().url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.entries(document.paths)
      .flatMap(([route, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${route}`))
      .sort();
    expect(expected.length).toBeGreaterThan(5);

    const watched = await watchedPage(browser());
    await watched.page.goto(`${api().url}/docs`);
    await watched.page.locator('.opblock').first().waitFor();
    const listed = await watched.page.locator('.opblock').evaluateAll((blocks) =>
      blocks.map(
        (b) =>
          `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b
            .querySelector('.opblock-summary-path')
            ?.textContent?.replace(/\u200b/g, '')
            .trim()}`,
      ),
    );
    expect(listed.sort()).toEqual(expected);
    expect(await checkPage(watched, 'swagger-docs')).toEqual([]);
    await watched.page.context().close();
  });

  it('"Try it out" on /api/income shows a 200 with rows', async () => {
    const watched = await watchedPage(browser());
    const { page } = watched;
    await page.goto(`${api().url}/docs`);
    const block = page.locator('.opblock', {
      has: page.locator('.opblock-summary-path', { hasText: /^\/api\/income$/ }),
    });
    await block.locator('.opblock-summary').click();
    await block.getByRole('button', { name: 'Try it out' }).click();
    await block.getByRole('button', { name: 'Execute' }).click();
    const live = block.locator('.live-responses-table');
    await live.waitFor();
    await expect
      .poll(async () => (await live.locator('tr.response .response-col_status').first().innerText()).trim())
      .toBe('200');
    const body = JSON.parse(
      await live.locator('tr.response .response-col_description .microlight').first().innerText(),
    ) as {
      data: { neighborhood: string }[];
      meta: { count: number };
    };
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.meta.count).toBe(body.data.length);
    expect(body.data[0]).toHaveProperty('neighborhood');
    expect(await checkPage(watched, 'swagger-try-income')).toEqual([]);
    await page.context().close();
  });
});
