import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;

/**
 * pgJDBC's DatabaseMetaData on the catalog test schema (catalog/schema.sql): prints each call's
 * rows, one line per row as "column=value|…", under a "## call" header; a failing call prints
 * "error <SQLSTATE> <message>". Run as a single-file source program:
 *   java -cp /usr/share/java/postgresql.jar JdbcMetaProbe.java JDBC-URL [call…]
 * The catalog tools test compares the output with PostgreSQL 15's (catalog/jdbc_meta.out).
 */
public class JdbcMetaProbe {
  interface Call {
    ResultSet run(DatabaseMetaData md) throws SQLException;
  }

  static void dump(String name, DatabaseMetaData md, Call call) {
    System.out.println("## " + name);
    try (ResultSet r = call.run(md)) {
      ResultSetMetaData m = r.getMetaData();
      while (r.next()) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= m.getColumnCount(); i++) {
          if (i > 1) sb.append('|');
          sb.append(m.getColumnLabel(i).toLowerCase()).append('=').append(r.getString(i));
        }
        System.out.println(sb);
      }
    } catch (SQLException e) {
      System.out.println("error " + e.getSQLState() + " " + e.getMessage().replace('\n', ' '));
    }
  }

  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0])) {
      DatabaseMetaData md = c.getMetaData();
      java.util.Set<String> only = new java.util.HashSet<>(java.util.Arrays.asList(args).subList(1, args.length));
      Object[][] calls = {
        {"getTables", (Call) (m) -> m.getTables(null, "public", "%", new String[] {"TABLE", "VIEW", "SEQUENCE", "INDEX"})},
        {"getColumns t", (Call) (m) -> m.getColumns(null, "public", "t", "%")},
        {"getColumns v", (Call) (m) -> m.getColumns(null, "public", "v", "%")},
        {"getPrimaryKeys t", (Call) (m) -> m.getPrimaryKeys(null, "public", "t")},
        {"getPrimaryKeys parent", (Call) (m) -> m.getPrimaryKeys(null, "public", "parent")},
        {"getIndexInfo t", (Call) (m) -> m.getIndexInfo(null, "public", "t", false, false)},
        {"getIndexInfo t unique", (Call) (m) -> m.getIndexInfo(null, "public", "t", true, false)},
        {"getImportedKeys t", (Call) (m) -> m.getImportedKeys(null, "public", "t")},
        {"getExportedKeys parent", (Call) (m) -> m.getExportedKeys(null, "public", "parent")},
        {"getCrossReference", (Call) (m) -> m.getCrossReference(null, "public", "parent", null, "public", "t")},
        {"getTypeInfo", (Call) (m) -> m.getTypeInfo()},
        {"getSchemas", (Call) (m) -> m.getSchemas()},
        {"getTableTypes", (Call) (m) -> m.getTableTypes()},
        {"getTablePrivileges t", (Call) (m) -> m.getTablePrivileges(null, "public", "t")},
        {"getFunctions", (Call) (m) -> m.getFunctions(null, "public", "%")},
      };
      // Strata only (a time-series table's tags as columns): asked for by name.
      if (only.contains("getColumns readings")) dump("getColumns readings", md, (m) -> m.getColumns(null, "public", "readings", "%"));
      for (Object[] call : calls) {
        if (only.isEmpty() || only.contains(call[0])) dump((String) call[0], md, (Call) call[1]);
      }
    }
  }
}
