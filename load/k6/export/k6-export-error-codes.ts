/** Stable codes for exports that cannot be carried out; `npm run k6:export` exits 3 on each. */
export const K6ExportErrorCodes = {
  BAD_OPTION: 'K6_EXPORT_BAD_OPTION',
  UNWRITABLE: 'K6_EXPORT_UNWRITABLE',
} as const;
export type K6ExportErrorCode = (typeof K6ExportErrorCodes)[keyof typeof K6ExportErrorCodes];
