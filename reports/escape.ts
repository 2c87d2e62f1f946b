import { escape } from 'html-escaper';

/**
 * Every piece of text that reaches the page (titles, scenario names, witnesses, table cells, series
 * names) goes through this: & < > " ' become entities, so text can never open a tag or leave an
 * attribute. Numbers are stringified first.
 */
export function escapeText(value: string | number | boolean | null | undefined): string {
  return escape(String(value ?? ''));
}
