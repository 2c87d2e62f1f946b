/** Stable codes for bad input to the report helpers; commands map them to exit code 3. */
export const ReportErrorCodes = {
  /** A time given to the recorder is negative or not a finite number. */
  BAD_TIME: 'REPORT_BAD_TIME',
  /** A value given to the recorder is not a finite number (or a latency is negative). */
  BAD_VALUE: 'REPORT_BAD_VALUE',
  /** A recorder or renderer option is out of range. */
  BAD_OPTION: 'REPORT_BAD_OPTION',
  /** The report file could not be written. */
  WRITE_FAILED: 'REPORT_WRITE_FAILED',
} as const;
export type ReportErrorCode = (typeof ReportErrorCodes)[keyof typeof ReportErrorCodes];
