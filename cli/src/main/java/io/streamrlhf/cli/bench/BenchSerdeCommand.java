package io.streamrlhf.cli.bench;

import io.streamrlhf.schemas.bench.SerdeBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench serde}: the Avro serde alone ({@link SerdeBench}): a {@code Generation} serialized and
 * deserialized on one thread, after a quarter as many untimed round trips. Prints
 * {@code Generation with 40 response tokens: 200,000 records in ...}, then the last line
 * {@code {"records_per_s":..., "bytes_per_record":..., "records":..., "seconds":..., "response_tokens":...}}.
 */
@Command(name = "serde", mixinStandardHelpOptions = true,
        description = "Avro serde round trips (serialize + deserialize) of one Generation per second, no broker.")
public final class BenchSerdeCommand implements Callable<Integer> {

    @Option(names = "--records", defaultValue = "" + SerdeBench.DEFAULT_RECORDS,
            description = "Round trips timed, after a quarter as many untimed (default ${DEFAULT-VALUE}).")
    long records;

    @Option(names = "--response-tokens", defaultValue = "" + SerdeBench.DEFAULT_RESPONSE_TOKENS,
            description = "Response tokens of the generation (default ${DEFAULT-VALUE}).")
    int responseTokens;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        SerdeBench.Result result = SerdeBench.run(SerdeBench.Parameters.of(records, responseTokens));
        PrintWriter out = spec.commandLine().getOut();
        if (!json) {
            out.println(result.summary());
        }
        out.println(result.toJson());
        out.flush();
        return 0;
    }
}
