package org.authhmac.james.mailets;

import java.util.Locale;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * James carries a mail on to the next mailet of the processor it is in when a step moves it to that very processor,
 * by {@code setState} or by an {@code onMailetException} that names it: for a step that keeps mail back (the signing
 * mailet, the quarantine) that is {@code ignore} under another name, and a mail would leave unsigned or be delivered
 * unheld. Such a mail goes to James's {@code error} processor instead (James refuses to start without one), with an
 * ERROR line naming the parameter to correct. Mail in the {@code error} processor itself stays where it is.
 */
final class KeepBack {
    private static final Logger LOGGER = LoggerFactory.getLogger(KeepBack.class);

    private KeepBack() {
    }

    /**
     * The processor to move {@code mail} to: {@code processor}, or {@link Mail#ERROR} when {@code processor} is the one
     * the mail is in.
     *
     * @param parameter the mailet parameter that named {@code processor}, for the log line
     */
    static String awayFrom(Mail mail, String processor, String mailetName, String parameter) {
        String here = mail.getState();
        if (processor == null || here == null || !processor.equals(here) || here.equals(Mail.ERROR)) {
            return processor;
        }
        logRedirect(mail, processor, mailetName, parameter);
        return Mail.ERROR;
    }

    private static void logRedirect(Mail mail, String processor, String mailetName, String parameter) {
        LOGGER.error("auth-hmac: {} sends mail {} to processor '{}' ({}), the processor it is in, where James would carry it on "
                + "to the next mailet; it goes to processor '{}' instead. Name another processor in {}.",
                mailetName, mail.getName(), processor, parameter, Mail.ERROR, parameter);
    }

    /**
     * After the mailet threw {@code e} for a mail that was in processor {@code here}: when James would move it to
     * {@code here} itself (its {@code onMailetException}, compared as James does, in lower case, {@code error} when
     * absent), moves it to {@link Mail#ERROR} and returns true, and the caller does not rethrow.
     */
    static boolean afterException(Mail mail, String here, String onMailetException, String mailetName, Exception e) {
        String target = onMailetException == null ? Mail.ERROR : onMailetException.trim().toLowerCase(Locale.US);
        if (here == null || !target.equals(here) || here.equals(Mail.ERROR) || target.equals("propagate")) {
            return false;
        }
        logRedirect(mail, target, mailetName, "onMailetException");
        mail.setState(Mail.ERROR);
        mail.setErrorMessage("auth-hmac: " + mailetName + " failed and its onMailetException names the processor the mail is in: "
                + UntrustedText.forLog(String.valueOf(e.getMessage())));
        return true;
    }
}
