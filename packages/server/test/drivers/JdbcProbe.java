import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Connects with pgJDBC to each URL given as an argument and prints one line per URL: "ok
 * <current_user>", or "error <SQLSTATE> <message>" (read by the secure-mode driver test). Run as
 * a single-file source program: java -cp postgresql.jar JdbcProbe.java URL…
 */
public class JdbcProbe {
  public static void main(String[] args) {
    for (String url : args) {
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement();
          ResultSet r = s.executeQuery("select current_user")) {
        r.next();
        System.out.println("ok " + r.getString(1));
      } catch (SQLException e) {
        System.out.println("error " + e.getSQLState() + " " + e.getMessage().replace('\n', ' '));
      }
    }
  }
}
