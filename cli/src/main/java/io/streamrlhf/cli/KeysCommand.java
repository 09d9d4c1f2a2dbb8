package io.streamrlhf.cli;

import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf keys generate}: Ed25519 keys that sign and verify published policy and reward-model versions. */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Keys that sign published versions (see docs/security.md).",
        subcommands = {KeysCommand.Generate.class})
final class KeysCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code rlhf keys generate --out DIR}. */
    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Generate an Ed25519 key pair: " + SigningKeys.PRIVATE_FILE + " (PKCS#8 PEM, for the "
                    + "publisher's " + VersionSigningConfig.SIGN_KEY + ") and " + SigningKeys.PUBLIC_FILE
                    + " (X.509 PEM, for the readers' " + VersionSigningConfig.VERIFY_KEYS + ").")
    static final class Generate implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "Directory to write the two files into; an existing private key there is not "
                        + "overwritten.")
        Path out;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            KeyPair pair = SigningKeys.generate();
            Path priv;
            try {
                priv = SigningKeys.writePair(pair, out);
            } catch (java.io.IOException e) {
                throw new ParameterException(spec.commandLine(), "--out " + out + ": " + e.getMessage(), e);
            }
            Path pub = out.resolve(SigningKeys.PUBLIC_FILE);
            PrintWriter w = spec.commandLine().getOut();
            w.println("key id      " + SigningKeys.keyId(pair.getPublic()));
            w.println("private key " + priv.toAbsolutePath() + "  (keep it with the publisher only)");
            w.println("public key  " + pub.toAbsolutePath());
            w.println("publisher (learner or rm trainer): " + VersionSigningConfig.SIGN_KEY + "="
                    + priv.toAbsolutePath());
            w.println("readers (workers, scorers):        " + VersionSigningConfig.VERIFY_KEYS + "="
                    + pub.toAbsolutePath());
            w.flush();
            return 0;
        }
    }
}
