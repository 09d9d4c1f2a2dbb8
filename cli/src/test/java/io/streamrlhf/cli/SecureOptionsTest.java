package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.cli.RlhfCommandTest.Run;
import org.junit.jupiter.api.Test;

/**
 * The options of the secure demo and of a cluster for other hosts, refused before anything starts when they cannot
 * work, with a message naming the option and what to do instead.
 */
class SecureOptionsTest {

    @Test
    void demoRefusesAConfigFileAndSaysWhereTheLoopRunsOnAnExistingCluster() {
        Run run = RlhfCommandTest.run("demo", "--config", "worker.properties");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("rlhf demo takes no --config (got worker.properties)",
                "starts its own cluster", "rlhf demo --secure", "rlhf stack up --bootstrap HOST:PORT");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void theSecureDemoSaysWhoRunsAsWhom() {
        assertThat(RlhfCommandTest.run("demo", "--help").out()).contains("--secure", "rm-trainer", "takes no",
                "--config", "with --processes");
    }

    @Test
    void hostsNeedASecureClusterAndValidNamesAndRenewalADataDirectory() {
        Run plaintext = RlhfCommandTest.run("cluster", "up", "--host", "broker.example.org");
        assertThat(plaintext.exit()).isEqualTo(2);
        assertThat(plaintext.err()).contains("--host names the broker certificate, which only --secure makes");
        Run badName = RlhfCommandTest.run("cluster", "up", "--secure", "--host", "*.example.org");
        assertThat(badName.exit()).isEqualTo(2);
        assertThat(badName.err()).contains("--host: broker host '*.example.org' is neither a DNS name");
        Run renew = RlhfCommandTest.run("cluster", "up", "--secure", "--renew-certificate");
        assertThat(renew.exit()).isEqualTo(2);
        assertThat(renew.err()).contains("--renew-certificate renews the certificate kept in --data-dir");
        assertThat(plaintext.out() + badName.out() + renew.out()).as("nothing started").isEmpty();
        assertThat(RlhfCommandTest.run("cluster", "up", "--help").out()).contains("--host", "--renew-certificate",
                "advertise");
    }
}
