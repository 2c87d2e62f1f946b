import { describe, expect, it } from 'vitest';
import { OutSpecError, parseOutSpec, parseOutSpecs } from './out-spec.js';

describe('--out NAME=URL', () => {
  it('reads a remote-write endpoint', () => {
    expect(parseOutSpec('prometheus-remote-write=http://127.0.0.1:19090/api/v1/write')).toEqual({
      kind: 'prometheus-remote-write',
      url: 'http://127.0.0.1:19090/api/v1/write',
    });
  });

  it('names the known outputs for an unknown one, and wants an http(s) URL', () => {
    expect(() => parseOutSpec('influxdb=http://x')).toThrow(/unknown output "influxdb"; known: prometheus-remote-write/);
    expect(() => parseOutSpec('prometheus-remote-write')).toThrow(OutSpecError);
    expect(() => parseOutSpec('prometheus-remote-write=127.0.0.1:19090')).toThrow(/http\(s\) URL/);
    expect(() => parseOutSpec('prometheus-remote-write=ftp://host/write')).toThrow(/http\(s\) URL/);
  });

  it('takes each output once', () => {
    expect(parseOutSpecs([])).toEqual([]);
    expect(() => parseOutSpecs(['prometheus-remote-write=http://a/w', 'prometheus-remote-write=http://b/w'])).toThrow(
      /given more than once/,
    );
    try {
      parseOutSpec('nope');
    } catch (error) {
      expect((error as OutSpecError).code).toBe('LOAD_BAD_OUT');
    }
  });
});
