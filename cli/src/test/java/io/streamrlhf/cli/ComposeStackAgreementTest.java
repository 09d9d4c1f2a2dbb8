package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.loop.stack.ProcessKind;
import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.stack.StackPlan;
import io.streamrlhf.loop.stack.StackProcess;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * {@code compose/docker-compose.yml} and {@code rlhf stack} describe the same processes: the compose file's rlhf
 * services are the stack's process kinds (plus its init service and the lag exporter), each running the command the
 * stack runs for that kind (but for the flags a deployment sets its own way: {@link ProcessKind#instanceFlags()}), and
 * both configure each kind with the same settings keys.
 */
class ComposeStackAgreementTest {

    private static final Path COMPOSE = Path.of("..", "compose", "docker-compose.yml");
    private static final String IMAGE = "streamrlhf/rlhf";
    /** Compose services of the rlhf image that are no stack process: the bootstrap and the consumer-lag exporter. */
    private static final Set<String> COMPOSE_ONLY = Set.of("init", "status");

    private static Map<String, Map<String, Object>> services;
    private static StackPlan composePlan;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void readCompose() throws IOException {
        Map<String, Object> root;
        try (Reader r = Files.newBufferedReader(COMPOSE)) {
            root = new Yaml().load(r);
        }
        services = new TreeMap<>((Map<String, Map<String, Object>>) root.get("services"));
        List<String> init = command("init");
        assertThat(init.subList(0, 2)).as("the init service runs 'rlhf stack init'").containsExactly("stack", "init");
        StackCommand.Init parsed = new StackCommand.Init();
        CommandLine cl = new CommandLine(parsed);
        cl.parseArgs(init.subList(2, init.size()).toArray(String[]::new));
        StackOptions options = parsed.options(cl.getCommandSpec());
        composePlan = StackPlan.of(options, options.bootstrap(), options.registry());
    }

    @Test
    void theComposeServicesAreTheStacksProcessKinds() {
        Set<String> rlhfServices = services.entrySet().stream()
                .filter(e -> String.valueOf(e.getValue().get("image")).startsWith(IMAGE)).map(Map.Entry::getKey)
                .collect(Collectors.toCollection(java.util.TreeSet::new));
        Set<String> expected = new HashSet<>(COMPOSE_ONLY);
        composePlan.processes().forEach(p -> expected.add(p.kind().service()));
        assertThat(rlhfServices).isEqualTo(expected);
        Set<ProcessKind> kinds = EnumSet.noneOf(ProcessKind.class);
        composePlan.processes().forEach(p -> kinds.add(p.kind()));
        assertThat(kinds).as("init's flags give compose every kind the stack runs in compose")
                .containsExactlyInAnyOrderElementsOf(EnumSet.allOf(ProcessKind.class).stream()
                        .filter(ProcessKind::inCompose).toList());
    }

    @Test
    void eachServiceRunsTheCommandTheStackRunsForItsKind() {
        for (StackProcess p : composePlan.processes()) {
            StackProcess composed = new StackProcess(p.name(), p.kind(), command(p.kind().service()), null,
                    p.restart(), p.heapMb());
            assertThat(composed.sharedArgs()).as("compose service %s", p.kind().service()).isEqualTo(p.sharedArgs());
            assertThat(p.args().subList(0, p.kind().command().size())).isEqualTo(p.kind().command());
        }
    }

    @Test
    void composeAndALocalStackConfigureEachKindWithTheSameKeys() {
        StackPlan local = StackPlan.of(new StackOptions(Path.of("stack"), null, null, "rlhf.", 0, 1, 1, 1, 1, 50,
                null, null, null, 2, 0, 0, 1, composePlan.options().demo()), "localhost:9092",
                "http://localhost:8081/apis/ccompat/v7");
        assertThat(composePlan.configs().keySet()).isEqualTo(local.configs().keySet());
        composePlan.configs().forEach((kind, settings) -> assertThat(settings.keySet()).as("%s's keys", kind)
                .isEqualTo(local.configs().get(kind).keySet()));
    }

    @Test
    void composeSetsOnlyKeysTheStackConfiguresForThatKind() {
        for (StackProcess p : composePlan.processes()) {
            Set<String> allowed = new HashSet<>();
            CommonConfig.DEFINITION.names().forEach(k -> allowed.add(CommonConfig.envName(k)));
            allowed.add(MetricsOptions.PORT_ENV);
            allowed.add(FeedbackCommand.TOKENS_ENV);  // the feedback service's annotator tokens file
            composePlan.configs().get(p.kind()).keySet().forEach(k -> allowed.add(CommonConfig.envName(k)));
            for (String env : environment(p.kind().service())) {
                assertThat(allowed).as("compose service %s sets %s, which is no key of its config",
                        p.kind().service(), env).contains(env);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> command(String service) {
        Map<String, Object> s = services.get(service);
        assertThat(s).as("compose service %s", service).isNotNull();
        Object cmd = s.get("command");
        assertThat(cmd).as("%s's command, as a list", service).isInstanceOf(List.class);
        return new ArrayList<>(((List<Object>) cmd).stream().map(String::valueOf).toList());
    }

    @SuppressWarnings("unchecked")
    private static Set<String> environment(String service) {
        Object env = services.get(service).get("environment");
        return env == null ? Set.of() : ((Map<String, Object>) env).keySet();
    }
}
