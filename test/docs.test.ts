/** The README stays true: every option, error and limit the code has is documented there. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, OPTIONS } from '../dist/daemon/config.js';
import { ERRORS } from '../dist/daemon/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every option with its flag, variable and default', () => {
    for (const option of OPTIONS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`--${option.flag}\` |`));
      expect(row, option.flag).toBeDefined();
      expect(row).toContain(`\`${option.env}\``);
      expect(row).toContain(DEFAULTS[option.key] === '' ? '| (none) |' : `\`${DEFAULTS[option.key]}\``);
    }
  });

  it('documents every error of the errors table with its HTTP status', () => {
    for (const [name, row] of Object.entries(ERRORS)) {
      expect(readme).toContain(`| \`${name}\` | ${row.status} |`);
    }
  });

  it('shows the quick start and the test command', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
