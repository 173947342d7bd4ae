/**
 * The catalog functions that depend on the session's name resolution or catalog view
 * (pg_table_is_visible, pg_get_indexdef/constraintdef/viewdef, pg_get_serial_sequence,
 * to_regclass, has_*_privilege, obj/col_description, format_type, …), bound as expressions for
 * the binder: `resolveTable` is the session's (temp schema first, then the search path).
 */
import { privilegeFunction, privilegeFunctionNames } from './auth/functions.js';
import { roleNameByOid } from './auth/catalog_tables.js';
import type { CatalogView } from './catalog/catalog.js';
import type { TableDesc } from './catalog/descriptors.js';
import { functionArguments, functionResult, identityArguments } from './catalog/routines.js';
import { findUserType } from './plan/domains.js';
import type { ExecCtx } from './exec/context.js';
import { quoteIdent } from './functions/scalar.js';
import type { BoundExpr } from './plan/binder.js';
import type { ResolvedTable, VirtualTableDef } from './plan/query.js';
import { T, formatType, typeFromOid } from './types/types.js';
import { columnComment, indexDef, indexOid, typmodFromPg, virtualSchemaOfOid } from './virtual/pg_catalog.js';
import { relationNameParts } from './names.js';
import type { SqlType, Value } from './types/types.js';

/** The session's table resolution (names.ts). */
export type ResolveTable = (parts: string[], pos: number, view: CatalogView) => ResolvedTable | { kind: 'virtual'; def: VirtualTableDef };

export function catalogFunction(name: string, args: BoundExpr[], view: CatalogView, resolveTable: ResolveTable): BoundExpr | null {
  const fn = (type: SqlType, f: (vals: Value[], ctx: ExecCtx) => Value, nullOk = false): BoundExpr => ({
    type,
    ev: (r, ctx) => {
      const vals = args.map((a) => a.ev(r, ctx));
      if (!nullOk && vals.some((v) => v === null)) return null;
      return f(vals, ctx);
    },
    shape: { k: 'other' },
    name,
  });
  const tableByOid = (oid: number, ctx: ExecCtx) => ctx.catalog.tableById(oid);
  switch (name) {
    case 'pg_get_userbyid':
      return fn(T.name, ([o], ctx) => roleNameByOid(ctx, Number(o)));
    case 'pg_encoding_to_char':
      return fn(T.name, ([e]) => (Number(e) === 6 ? 'UTF8' : 'SQL_ASCII'));
    case 'enum_first':
    case 'enum_last':
    case 'enum_range': {
      // The labels of the enum an argument is of (its value does not matter; NULL bounds are open).
      const et = args.find((a) => a.type.enumType)?.type;
      const e = et?.enumType ? view.typesById.get(et.enumType.id) : undefined;
      if (!et || !e || e.kind !== 'enum' || (name !== 'enum_range' && args.length !== 1) || args.length > 2) return null;
      const labels = e.labels.map((l) => l.label);
      if (name === 'enum_first') return fn(et, () => labels[0] ?? null, true);
      if (name === 'enum_last') return fn(et, () => labels[labels.length - 1] ?? null, true);
      const arr: SqlType = { kind: 'array', typmod: -1, elem: et };
      if (args.length === 1) return fn(arr, () => labels, true);
      return fn(arr, ([lo, hi]) => {
        const from = lo === null || lo === undefined ? 0 : labels.indexOf(lo as string);
        const to = hi === null || hi === undefined ? labels.length - 1 : labels.indexOf(hi as string);
        return labels.slice(from, to + 1);
      }, true);
    }
    case 'pg_get_function_arguments':
    case 'pg_get_function_identity_arguments':
    case 'pg_get_function_result':
      return fn(T.text, ([o], ctx) => {
        const f = ctx.catalog.functionsById.get(Number(o));
        if (!f) return null;
        return name === 'pg_get_function_result' ? functionResult(f) : name === 'pg_get_function_arguments' ? functionArguments(f) : identityArguments(f);
      });
    case 'pg_table_is_visible':
    case 'pg_type_is_visible':
    case 'pg_function_is_visible':
      return fn(T.bool, ([o], ctx) => {
        const ut = ctx.catalog.typesById.get(Number(o));
        if (ut) return findUserType(ctx.catalog, ctx.session, ut.name)?.id === ut.id;
        const f = ctx.catalog.functionsById.get(Number(o));
        if (f) {
          // Visible: the first schema of the path holding a function with its arguments is its own.
          for (const sn of ctx.session.searchPath) {
            const db = ctx.catalog.database(ctx.session.database);
            const sch = db ? ctx.catalog.schema(db.id, sn) : undefined;
            const same = sch ? ctx.catalog.functionsNamed(sch.id, f.name).find((g) => identityArguments(g) === identityArguments(f)) : undefined;
            if (same) return same.id === f.id;
          }
          return false;
        }
        const t = tableByOid(Number(o), ctx);
        if (!t) return (virtualSchemaOfOid(Number(o)) ?? 'pg_catalog') === 'pg_catalog';
        // Visible: its bare name finds it (the session's temp tables first, then the path).
        try {
          const r = resolveTable([t.name], 0, ctx.catalog);
          return r.kind === 'table' && r.desc.id === t.id;
        } catch {
          return false;
        }
      });
    case 'format_type':
      return fn(T.text, ([oid, mod], ctx) => {
        const d = ctx.catalog.typesById.get(Number(oid));
        if (d) return d.name;
        const t = typeFromOid(Number(oid));
        if (!t) return '???';
        const typmod = mod === null || mod === undefined ? -1 : typmodFromPg(t.kind, Number(mod));
        return formatType({ ...t, typmod });
      }, true);
    case 'pg_get_expr':
      return fn(T.text, ([e]) => e as string);
    case 'pg_get_indexdef':
      return fn(T.text, ([o, colno], ctx) => {
        const oid = Number(o);
        const t = ctx.catalog.tableById(Math.floor(oid / 1000));
        const idx = t ? [t.primaryIndex, ...t.indexes].find((i) => indexOid(t, i) === oid) : undefined;
        if (!t || !idx) return null;
        // pg_get_indexdef(index, column, pretty): that key column alone (0: the whole definition).
        if (colno !== undefined && Number(colno) > 0) {
          const id = idx.columnIds[Number(colno) - 1];
          const col = id === undefined ? undefined : t.columns.find((c) => c.id === id);
          return col ? quoteIdent(col.name) : '';
        }
        const s = ctx.catalog.byId.get(t.schemaId);
        return indexDef(t, idx, s?.name ?? 'public');
      });
    case 'pg_get_constraintdef':
      return fn(T.text, ([o, pretty], ctx) => {
        const oid = Number(o);
        if (oid > 100_000_000) {
          const io = oid - 100_000_000;
          const t = ctx.catalog.tableById(Math.floor(io / 1000));
          const idx = t ? [t.primaryIndex, ...t.indexes].find((i) => indexOid(t, i) === io) : undefined;
          if (!t || !idx) return null;
          const cols = idx.columnIds.map((id) => t.columns.find((c) => c.id === id)?.name).join(', ');
          return `${idx.constraint === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'} (${cols})`;
        }
        const dom = ctx.catalog.domainById(Math.floor(oid / 1000));
        if (dom && oid % 1000 >= 800 && oid % 1000 < 900) {
          const dc = dom.checks[(oid % 1000) - 800];
          // ruleutils.c writes the placeholder as VALUE.
          return dc ? `CHECK (${valueKeywordUpper(dc.expr)})` : null;
        }
        const t = ctx.catalog.tableById(Math.floor(oid / 1000));
        if (!t) return null;
        const k = oid % 1000;
        if (k >= 950) {
          const fk = t.foreignKeys[k - 950];
          const rt = fk ? ctx.catalog.tableById(fk.refTableId) : undefined;
          if (!fk || !rt) return null;
          const names = (tt: TableDesc, ids: number[]) => ids.map((id) => tt.columns.find((c) => c.id === id)?.name).join(', ');
          return `FOREIGN KEY (${names(t, fk.columnIds)}) REFERENCES ${rt.name}(${names(rt, fk.refColumnIds)})`;
        }
        const ch = t.checks[k - 900];
        // ruleutils.c: pretty mode drops the expression's own outer parentheses.
        return ch ? (pretty === true ? `CHECK (${ch.expr})` : `CHECK ((${ch.expr}))`) : null;
      });
    case 'pg_get_statisticsobjdef_columns':
    case 'pg_get_partkeydef':
    case 'pg_get_triggerdef':
    case 'pg_get_ruledef':
    case 'pg_tablespace_location':
    case 'col_description':
      return fn(T.text, ([o, n], ctx) => {
        const t = ctx.catalog.tableById(Number(o));
        return t ? columnComment(t, Number(n)) : null;
      });
    case 'obj_description':
      return fn(T.text, ([o, cls], ctx) => {
        // The public schema carries PostgreSQL's comment (initdb's); a TS table its COMMENT.
        if (cls === 'pg_namespace') {
          const d = ctx.catalog.byId.get(Number(o));
          return d?.kind === 'schema' && d.name === 'public' ? 'standard public schema' : null;
        }
        return ctx.catalog.tableById(Number(o))?.ts?.comment ?? null;
      });
    case 'shobj_description':
      return fn(T.text, () => null, true);
    case 'pg_relation_is_publishable':
      return fn(T.bool, () => false, true);
    case 'has_function_privilege':
      return fn(T.bool, () => true, true);
    case 'has_table_privilege':
    case 'has_sequence_privilege':
    case 'has_schema_privilege':
    case 'has_database_privilege':
    case 'has_column_privilege':
    case 'has_any_column_privilege':
    case 'pg_has_role':
      if (!privilegeFunctionNames.has(name)) return null;
      return fn(
        T.bool,
        (vals, ctx) => {
          if (!ctx.auth) return true;
          return privilegeFunction(name, vals, {
            auth: ctx.auth,
            catalog: ctx.catalog,
            user: ctx.session.user,
            database: ctx.session.database,
            resolveTable: (n) => {
              const r = resolveTable(n.split('.').map((p) => p.replace(/^"(.*)"$/, '$1')), 0, ctx.catalog);
              return r.kind === 'table' ? r.desc : null;
            },
          });
        },
        true,
      );
    case 'pg_get_viewdef':
      // By OID, or by (possibly qualified) name as pg_get_viewdef(text) does.
      return fn(T.text, ([o], ctx) => {
        if (typeof o === 'number' || /^\s*\d+\s*$/.test(String(o))) return tableByOid(Number(o), ctx)?.viewQuery ?? null;
        const r = resolveTable(String(o).split('.'), 0, ctx.catalog);
        return r.kind === 'table' ? (r.desc.viewQuery ?? null) : null;
      });
    case 'pg_get_serial_sequence':
      return fn(T.text, ([tn, cn], ctx) => {
        const r = resolveTable(String(tn).split('.'), 0, ctx.catalog);
        if (r.kind !== 'table') return null;
        const c = r.desc.columns.find((x) => x.name === cn);
        const m = c?.default ? /^nextval\('([^']+)'/.exec(c.default) : null;
        return m ? `${r.schema}.${m[1]}` : null;
      });
    case 'pg_total_relation_size':
    case 'pg_relation_size':
    case 'pg_table_size':
    case 'pg_indexes_size':
      return fn(T.int8, (_v, ctx) => BigInt(ctx.server.engineSizeBytes()));
    case 'pg_database_size':
      return fn(T.int8, (_v, ctx) => BigInt(ctx.server.engineSizeBytes()));
    case 'to_regclass':
      return fn(T.regclass, ([n]) => {
        try {
          const r = resolveTable(relationNameParts(String(n)), 0, view);
          return r.kind === 'virtual' ? r.def.oid : r.desc.id;
        } catch {
          return null;
        }
      });
    default:
      return null;
  }
}

/** `value` written in any case, outside string literals and quoted names, as VALUE (a domain check's placeholder). */
function valueKeywordUpper(expr: string): string {
  return expr.replace(/('(?:[^']|'')*'|"(?:[^"]|"")*")|\bvalue\b/gi, (m, quoted: string | undefined) => (quoted !== undefined ? m : 'VALUE'));
}
