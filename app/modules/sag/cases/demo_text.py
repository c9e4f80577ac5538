"""Texts for the demo cases: what a Danish IT-services company's support desk sees."""

FIRST_NAMES = ["Anne", "Peter", "Camilla", "Henrik", "Louise", "Thomas", "Maria", "Søren", "Ida",
               "Kasper", "Line", "Rasmus", "Pernille", "Martin", "Julie", "Anders", "Nanna", "Jesper"]
LAST_NAMES = ["Holm", "Madsen", "Kristensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen",
              "Poulsen", "Thomsen", "Møller", "Knudsen", "Mortensen"]
PLACES = ["receptionen", "1. sal", "lageret", "mødelokale 2", "kontoret i Vejle", "værkstedet",
          "ejerens kontor", "bogholderiet", "kantinen"]
DEVICES = ["Lenovo ThinkPad T14", "HP EliteBook 840", "Dell Latitude 5440", "MacBook Air", "Surface Pro 9"]
PRINTERS = ["Brother MFC-L8900", "HP LaserJet M428", "Kyocera ECOSYS M3655", "Canon i-SENSYS MF645"]

# (title, description); {name}, {place}, {device}, {printer}, {n} are filled in per case.
CASES = [
    ("Printer i {place} melder papirstop", "{printer} i {place} melder papirstop, selvom der ikke sidder papir fast. "
     "Kunden har genstartet den to gange. Kræver muligvis udskiftning af valse."),
    ("Outlook synkroniserer ikke kalender for {name}", "{name} kan ikke se nye kalenderaftaler i Outlook på "
     "pc'en, men de vises på telefonen. Startede efter seneste Office-opdatering."),
    ("Ny medarbejder: {name} starter mandag", "Opret bruger i Microsoft 365 (Business Premium), tilføj til "
     "Teams-grupper og delte postkasser, klargør {device} og tilmeld MFA."),
    ("Fratrædelse: luk konto for {name}", "{name} stopper fredag. Luk login, konverter postkassen til delt "
     "postkasse, videresend mails til nærmeste leder og indsaml {device}."),
    ("VPN falder ud hjemmefra", "Flere medarbejdere oplever at VPN-forbindelsen afbrydes efter ca. 10 minutter. "
     "Fortinet-klienten viser 'tunnel down'. Tjek firewall-log og DPD-indstillinger."),
    ("Backup fejlede i nat (Veeam)", "Nattens Veeam-job fejlede med 'insufficient space on repository'. "
     "Ryd op i gamle restore points og kør jobbet igen. Tjek retention-politik."),
    ("Server disk C: næsten fuld", "Overvågningen advarer: C: på filserveren har under 5 % fri plads. "
     "Find årsagen (sandsynligvis Windows Update-cache eller logfiler)."),
    ("Phishing-mail modtaget – tjek konto for {name}", "{name} har klikket på et link i en mail om "
     "'pakkelevering'. Nulstil adgangskode, gennemgå log-ins og mailregler, scan pc'en."),
    ("Opgradering til Windows 11 – {n} pc'er", "Planlæg opgradering af {n} arbejdsstationer til Windows 11. "
     "Kontrollér TPM og kompatibilitet med branchesoftwaren før udrulning."),
    ("MFA nulstilling for {name}", "{name} har fået ny telefon og kan ikke godkende log-in. "
     "Nulstil Authenticator-registrering efter bekræftelse af identitet."),
    ("Wi-Fi dækning dårlig i {place}", "Brugerne i {place} mister forbindelsen. Lav en site survey og "
     "overvej et ekstra access point (UniFi U6)."),
    ("Certifikat udløber på mailserver om 14 dage", "SSL-certifikatet til webmail og autodiscover udløber. "
     "Forny certifikatet og opdater bindinger på Exchange og firewall."),
    ("NAS svarer ikke", "Synology NAS'en svarer ikke på netværket. Lysdioden blinker orange. "
     "Muligvis defekt disk i RAID; tjek og bestil ny disk."),
    ("Teams-møderum virker ikke i {place}", "Skærmen i {place} finder ikke Teams Rooms-kontoen efter "
     "adgangskodeskift. Opdater kontoen på enheden."),
    ("Adgang til delt mappe 'Regnskab' for {name}", "{name} skal have læse- og skriveadgang til "
     "\\\\fil01\\Regnskab. Godkendt af økonomichefen pr. mail."),
    ("Omstilling på hovednummer virker ikke", "Opkald til hovednummeret ender i telefonsvareren i stedet for "
     "omstillingen. Tjek åbningstider og ringegrupper i telefonianlægget."),
    ("e-conomic integration fejler ved bogføring", "Integrationen til e-conomic afviser bilag med fejlen "
     "'invalid VAT code'. Tjek momskoder efter sidste opdatering."),
    ("Dankort-terminal offline i butikken", "Betalingsterminalen viser 'no host'. Tjek netværksport og "
     "firewall-regler for terminalens udgående trafik."),
    ("Ny bærbar til {name}", "Bestil og klargør {device} til {name}. Installer standardpakke, "
     "BitLocker og overfør data fra den gamle maskine."),
    ("Langsom pc hos {name}", "{name} oplever at pc'en er meget langsom om morgenen. Tjek opstartsprogrammer, "
     "diskens helbred og antivirus-scanninger."),
    ("Licensgennemgang Microsoft 365", "Gennemgå licenser: der betales for {n} licenser, men kun en del er i "
     "brug. Foreslå oprydning til kunden."),
    ("Firewall-regel til ny webshop", "Kunden lancerer ny webshop og skal have åbnet for API-kald til "
     "fragtmodulet. Opret regel og dokumentér den."),
    ("Udskiftning af switch i serverrum", "Den gamle 24-ports switch giver pakketab. Udskift med ny "
     "managed switch, overfør VLAN-opsætning og mærk kabler."),
    ("Mails fra kunden lander i spam hos modtagere", "Udgående mails markeres som spam. Tjek SPF, DKIM og "
     "DMARC for domænet og ret DNS-posterne."),
    ("Scanner til mail virker ikke efter kodeskift", "{printer} kan ikke sende scanninger til mail efter "
     "adgangskodeskift på scannerkontoen. Opdater SMTP-opsætning."),
    ("Gendan slettet fil for {name}", "{name} har ved en fejl slettet en Excel-fil i SharePoint i går. "
     "Gendan fra papirkurven eller backup."),
    ("Antivirus-alarm på {device}", "Defender har fundet en trussel på {name}s {device}. "
     "Isolér maskinen, undersøg hændelsen og rapportér til kunden."),
    ("Opsætning af nyt mødelokale", "Nyt mødelokale i {place}: skærm, kamera, højttaler og Teams-konto skal "
     "sættes op inden næste uge."),
    ("UPS i serverrum bipper", "UPS'en melder batterifejl. Bestil nyt batteri og planlæg udskiftning uden for "
     "åbningstid."),
    ("Kunden ønsker tilbud på ny server", "Den nuværende server er fra 2017. Lav tilbud på ny server eller "
     "flytning til Azure, inkl. migrering."),
    ("Mobiltelefon til {name} skal opsættes", "Ny iPhone til {name}: tilmeld Intune, opsæt mail, Teams "
     "og Authenticator."),
    ("Windows-opdateringer fejler på terminalserver", "KB-opdateringen fejler med 0x800f0922 på RDS01. "
     "Undersøg og planlæg genstart i servicevindue."),
    ("Delt postkasse 'info@' vises ikke hos {name}", "{name} kan ikke se den delte postkasse i Outlook. "
     "Tjek rettigheder og automapping."),
    ("Printerdriver mangler efter opdatering", "Efter opdateringen kan flere ikke printe til {printer}. "
     "Driveren skal geninstalleres via printserveren."),
    ("Årlig gennemgang af IT-sikkerhed", "Gennemgå adgangskodepolitik, MFA-dækning, backup-test og "
     "opdateringsniveau. Lav rapport til direktionen."),
    ("Skærm flimrer hos {name}", "Den eksterne skærm hos {name} flimrer via dockingstationen. "
     "Prøv andet kabel og opdater docking-firmware."),
]

STATUS_NOTES = {
    "in_progress": ["Går i gang nu", "Kigger på det i dag", "Fjernsupport aftalt med kunden", None, None],
    "waiting_customer": ["Afventer svar fra kunden", "Venter på at kunden bekræfter tidspunkt",
                         "Har bedt om skærmbillede af fejlen", "Afventer godkendelse af tilbud"],
    "on_hold": ["Afventer levering af hardware", "Sat i bero efter aftale med kunden",
                "Venter på leverandør"],
    "resolved": ["Løst – kunden bekræfter at det virker", "Fejlen er rettet", "Udskiftet og testet", None],
    "closed": [None, "Lukket efter aftale", "Ingen tilbagemelding fra kunden – lukkes"],
}
