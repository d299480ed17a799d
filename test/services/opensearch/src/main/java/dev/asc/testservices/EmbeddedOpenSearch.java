package dev.asc.testservices;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.ingest.common.IngestCommonPlugin;
import org.opensearch.script.mustache.MustachePlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single OpenSearch node for integration tests, started from Maven Central jars.
 *
 * <p>Constructing {@link Node} directly skips the distribution's Bootstrap, so there are no bootstrap checks, no
 * SecurityManager and no native (JNA) setup; modules are not discovered from a modules/ folder either, so the
 * plugins this node needs are passed by class.
 *
 * <p>Usage: {@code EmbeddedOpenSearch <home-dir> <http-port> <transport-port>}
 */
public final class EmbeddedOpenSearch {

  /** Node's plugin-taking constructor is protected; this subclass exposes it. */
  private static final class TestNode extends Node {
    TestNode(Environment environment, List<Class<? extends Plugin>> plugins) {
      super(environment, plugins, true);
    }
  }

  private EmbeddedOpenSearch() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedOpenSearch <home-dir> <http-port> <transport-port>");
      System.exit(64);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    Files.createDirectories(home.resolve("config"));
    Files.createDirectories(home.resolve("data"));
    Files.createDirectories(home.resolve("logs"));

    Settings settings =
        Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "asc-integration")
            .put("node.name", "asc-integration-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", args[2])
            .put("discovery.type", "single-node")
            // Build machines can run with little free disk; the flood-stage watermark would turn indices
            // read-only and make bulk requests fail for reasons unrelated to the code under test.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Tests create many short-lived indices; one shard and no replica keeps a single node green.
            .put("cluster.default_number_of_replicas", 0)
            .build();

    Environment environment =
        InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), home.resolve("config"), () -> "asc-integration-node");
    Node node = new TestNode(environment, List.of(
            Netty4Plugin.class, CommonAnalysisPlugin.class, IngestCommonPlugin.class, MustachePlugin.class));

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    node.close();
                  } catch (Exception e) {
                    e.printStackTrace();
                  } finally {
                    stopped.countDown();
                  }
                },
                "embedded-opensearch-shutdown"));
    node.start();
    System.out.println("embedded OpenSearch started: http://127.0.0.1:" + args[1]);
    stopped.await();
  }
}
