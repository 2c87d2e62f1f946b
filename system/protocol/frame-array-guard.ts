import { z } from 'zod';
import { ChatError } from '../core/errors.js';
import type { FrameArrayBounds } from './frame-array-bounds.js';
import { clientFrameSchemas, type ClientFrameType } from './frames.js';

/**
 * The element schema of every array field of every client frame, read once from the frame
 * schemas themselves so the guard validates exactly what the full parse would.
 */
export const arrayItemSchemas: { readonly [T in ClientFrameType]: Readonly<Record<string, z.ZodType>> } = Object.fromEntries(
  Object.entries(clientFrameSchemas).map(([type, schema]) => [type, arrayFieldsOf(schema.shape)]),
) as { [T in ClientFrameType]: Record<string, z.ZodType> };

function arrayFieldsOf(shape: Record<string, z.ZodType>): Record<string, z.ZodType> {
  const fields: Record<string, z.ZodType> = {};
  for (const [field, fieldSchema] of Object.entries(shape)) {
    const item = arrayItemOf(fieldSchema);
    if (item) fields[field] = item;
  }
  return fields;
}

function arrayItemOf(schema: z.ZodType): z.ZodType | undefined {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
    inner = inner.unwrap() as z.ZodType;
  }
  return inner instanceof z.ZodArray ? (inner.element as z.ZodType) : undefined;
}

/**
 * Checks a frame's arrays before the full parse, so the work one frame can cause before it is
 * refused stays small: an array longer than its bound is refused by its length without reading
 * an element, and elements are then validated one at a time up to the first bad one (the full
 * parse would validate, and describe, every bad element of the array). Fields that are missing or
 * not arrays are left to the full parse, which says so.
 */
export function checkFrameArrays(
  type: ClientFrameType,
  frame: Readonly<Record<string, unknown>>,
  bounds: FrameArrayBounds,
): ChatError | undefined {
  const items = arrayItemSchemas[type];
  for (const [field, bound] of Object.entries(
    bounds[type] as Record<string, { itemsMax: number; limitName: string; code: ChatError['code'] }>,
  )) {
    const value = frame[field];
    if (!Array.isArray(value)) continue;
    if (value.length > bound.itemsMax) {
      return new ChatError(bound.code, `${type}: ${field} has ${value.length} entries; at most ${bound.itemsMax} (${bound.limitName})`);
    }
    const item = items[field];
    if (!item) continue;
    for (let index = 0; index < value.length; index++) {
      const result = item.safeParse(value[index]);
      if (result.success) continue;
      const issue = result.error.issues[0];
      const where = [field, index, ...(issue?.path ?? [])].map(String).join('.');
      return new ChatError('INVALID_FIELD', `${type}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
  }
  return undefined;
}
