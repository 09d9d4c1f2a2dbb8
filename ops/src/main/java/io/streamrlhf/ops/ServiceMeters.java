package io.streamrlhf.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The meters of one process, exported in Prometheus format: JVM (memory, GC, threads, classes) and process (CPU,
 * uptime, file descriptors) meters, the Kafka clients' own metrics through Micrometer's Kafka binders, and the
 * project's meters. Every series carries a {@code component} label: the process's components ({@code worker},
 * {@code score}, {@code learn}, ...) each register through {@link #component(String)}, so {@code rlhf demo}, which
 * runs them all in one JVM, serves them from one endpoint and a dashboard tells them apart.
 */
public final class ServiceMeters implements AutoCloseable {

    /** The label that names the component a series belongs to. */
    public static final String COMPONENT = "component";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]*");

    private final PrometheusMeterRegistry prometheus;
    private final String process;
    private final Map<String, MeterRegistry> components = new ConcurrentHashMap<>();
    private final List<AutoCloseable> binders = new ArrayList<>();

    private ServiceMeters(String process) {
        this.process = checkName(process);
        this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MeterRegistry jvm = component(process);
        JvmGcMetrics gc = new JvmGcMetrics();
        for (MeterBinder binder : List.of(new ClassLoaderMetrics(), new JvmMemoryMetrics(), gc, new JvmThreadMetrics(),
                new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics())) {
            binder.bindTo(jvm);
        }
        binders.add(gc);
    }

    /**
     * A registry for a process whose JVM and process meters carry {@code component=process}.
     *
     * @param process lower-case name such as {@code worker} or {@code demo}
     */
    public static ServiceMeters create(String process) {
        return new ServiceMeters(process);
    }

    /** The process's name (the component its JVM meters carry). */
    public String process() {
        return process;
    }

    /**
     * Where one component registers its meters: they reach the Prometheus registry with {@code component=name}
     * added. The same name gives the same registry.
     */
    public MeterRegistry component(String name) {
        return components.computeIfAbsent(checkName(name), n -> {
            CompositeMeterRegistry view = new CompositeMeterRegistry();
            view.config().commonTags(List.of(Tag.of(COMPONENT, n)));
            view.add(prometheus);
            return view;
        });
    }

    /** Exports a Kafka consumer's, producer's or admin client's metrics under {@code component}. */
    public void bindClient(String component, Object client) {
        KafkaClientMetrics binder;
        if (client instanceof Consumer<?, ?> c) {
            binder = new KafkaClientMetrics(c);
        } else if (client instanceof Producer<?, ?> p) {
            binder = new KafkaClientMetrics(p);
        } else if (client instanceof AdminClient a) {
            binder = new KafkaClientMetrics(a);
        } else {
            throw new IllegalArgumentException("not a Kafka client: " + client.getClass().getName());
        }
        bind(component, binder);
    }

    /** Exports the metrics of a Kafka Streams instance (its consumers, producers and the topology's). */
    public void bindStreams(String component, KafkaStreams streams) {
        bind(component, new KafkaStreamsMetrics(streams));
    }

    private synchronized <B extends MeterBinder & AutoCloseable> void bind(String component, B binder) {
        binder.bindTo(component(component));
        binders.add(binder);
    }

    /** The registry the endpoint scrapes. */
    public PrometheusMeterRegistry prometheus() {
        return prometheus;
    }

    /** The current values in the Prometheus text format (version 0.0.4). */
    public String scrape() {
        return prometheus.scrape();
    }

    /** Stops the binders' background refreshes and closes the registry. */
    @Override
    public synchronized void close() {
        for (AutoCloseable binder : binders) {
            try {
                binder.close();
            } catch (Exception e) {
                // a binder that cannot stop holds nothing the process needs any more
            }
        }
        binders.clear();
        components.values().forEach(MeterRegistry::close);
        prometheus.close();
    }

    private static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("component name '" + name
                    + "' must be lower-case letters, digits and dashes, starting with a letter");
        }
        return name;
    }
}
