/**
 * The ErrorResponse `R` field (the PostgreSQL function that raised the error), which drivers
 * expose (node-postgres `err.routine`, psycopg `diag.source_function`, pgJDBC
 * `ServerErrorMessage.getRoutine`). Strata has no such functions, so it names PostgreSQL's where
 * one error has one source there (recorded from PostgreSQL 15); elsewhere the field is omitted
 * rather than guessed.
 */
const byCode: ReadonlyMap<string, string> = new Map([
  ['23505', '_bt_check_unique'],
  ['23502', 'ExecConstraints'],
  ['23514', 'ExecConstraints'],
  ['23503', 'ri_ReportViolation'],
  ['42P01', 'parserOpenTable'],
  ['42703', 'errorMissingColumn'],
  ['42P07', 'heap_create_with_catalog'],
  ['57014', 'ProcessInterrupts'],
]);

/** PostgreSQL's routine for an error, when it is unambiguous. */
export function routineFor(code: string, message: string): string | undefined {
  if (code === '42601') return message.startsWith('syntax error at') ? 'scanner_yyerror' : undefined;
  if (code === '42883') return message.startsWith('function ') ? 'ParseFuncOrColumn' : message.startsWith('operator does not exist') ? 'op_error' : undefined;
  return byCode.get(code);
}
