package io.streamrlhf.cli;

import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
  * Turns an exception escaping a command into one readable line on stderr and a non-zero exit code, instead of a
  * stack trace. {@code RLHF_DEBUG=1} prints the stack trace too.
  */
final class CliErrors implements IExecutionExceptionHandler {

    /** Exit code for invalid configuration (as in sysexits' EX_CONFIG). */
    static final int CONFIG_ERROR = 78;
    /** Exit code for any other failure of a command. */
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        String name = cmd.getCommandSpec().qualifiedName();
        cmd.getErr().println(name + ": " + describe(ex));
        if (System.getenv("RLHF_DEBUG") != null) {
            ex.printStackTrace(cmd.getErr());
        }
        return ex instanceof ConfigException ? CONFIG_ERROR : FAILURE;
    }

    static String describe(Throwable ex) {
        StringBuilder sb = new StringBuilder(String.valueOf(ex.getMessage()));
        for (Throwable cause = ex.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null && !sb.toString().contains(cause.getMessage())) {
                sb.append(": ").append(cause.getMessage());
            }
        }
        return sb.toString();
    }
}
