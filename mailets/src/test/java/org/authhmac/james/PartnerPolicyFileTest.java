package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.apache.mailet.MailetException;
import org.authhmac.james.testing.TestPartners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** conf/auth-hmac-partners.properties as the mailets and the matcher get it: through James's PropertiesProvider, once. */
class PartnerPolicyFileTest {
    @TempDir
    Path conf;

    @Test
    void readsTheFileFromJamesConfigurationFolderOnceForEveryAsker() throws Exception {
        TestPartners.write(conf, "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=600");
        PartnerPolicyFile file = new PartnerPolicyFile(TestPartners.provider(conf));

        PartnerPolicies first = file.policies();
        TestPartners.write(conf, "partner.c.example.keyset=c-b");

        assertThat(first.partners().get("a.example").periodSeconds()).isEqualTo(600);
        assertThat(file.policies()).isSameAs(first);
    }

    @Test
    void aMissingFileStopsEveryAskerNamingTheFile() {
        PartnerPolicyFile file = new PartnerPolicyFile(TestPartners.provider(conf));

        assertThatThrownBy(file::policies).isInstanceOf(MailetException.class)
                .hasMessageContaining("cannot read conf/auth-hmac-partners.properties");
        assertThatThrownBy(file::policies).isInstanceOf(MailetException.class)
                .hasMessageContaining("cannot read conf/auth-hmac-partners.properties");
    }

    @Test
    void anInvalidFileStopsEveryAskerWithTheSameMessageEvenWhenMendedMeanwhile() throws Exception {
        TestPartners.write(conf, "partner.a.example.keyset=a-b", "partner.a.example.failOn=pass");
        PartnerPolicyFile file = new PartnerPolicyFile(TestPartners.provider(conf));

        assertThatThrownBy(file::policies).isInstanceOf(MailetException.class)
                .hasMessage("auth-hmac: conf/auth-hmac-partners.properties: invalid parameter 'partner.a.example.failOn': "
                        + "pass cannot count as failure");
        TestPartners.write(conf, "partner.a.example.keyset=a-b");

        assertThatThrownBy(file::policies).isInstanceOf(MailetException.class).hasMessageContaining("'partner.a.example.failOn'");
    }

    @Test
    void policiesReadElsewhereAreHandedOutAsTheyAre() throws Exception {
        PartnerPolicies policies = TestPartners.of("partner.a.example.keyset=a-b");

        assertThat(PartnerPolicyFile.of(policies).policies()).isSameAs(policies);
    }
}
