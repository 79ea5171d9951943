; Inno Setup 6 script: the Windows installer for the Clearooms setup wizard.
;
; Build it with packaging\build.py --installer, which passes the defines below. By hand:
;   iscc /DAppVersion=<version> /DSourceDir=dist\clearooms-wizard ^
;        /DIconFile=resources\icons\clearooms-wizard.ico /Odist packaging\windows\clearooms-wizard.iss
; The version is never written here: it comes from clearooms_wizard\__init__.py through build.py.
; Signing: see packaging\README.md (build.py passes /DSign and a sign tool named "clearooms").

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=... (packaging\build.py does)
#endif
#ifndef SourceDir
  #error Pass the built folder: iscc /DSourceDir=...\dist\clearooms-wizard
#endif
#ifndef IconFile
  #define IconFile "..\..\resources\icons\clearooms-wizard.ico"
#endif

#define AppName "Clearooms Setup Wizard"
#define AppExe "clearooms-wizard.exe"

[Setup]
; Never change AppId: Windows uses it to find the installed copy for upgrades and removal.
AppId={{E3C0E0A5-AAF5-465B-930F-40984E414651}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Clearooms
AppPublisherURL=https://www.clearooms.com/
AppSupportURL=https://www.clearooms.com/
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
DefaultDirName={autopf}\Clearooms Setup Wizard
DefaultGroupName=Clearooms
DisableProgramGroupPage=yes
; Office managers often have no administrator rights: install for the current user unless they
; choose (and may) install for everyone.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Qt 6 needs Windows 10 1809 or later.
MinVersion=10.0.17763
OutputBaseFilename=clearooms-wizard-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
#ifdef Sign
SignTool=clearooms
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder build: the windowed program, its console twin for the command line
; (clearooms-wizard-cli.exe) and _internal\.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundled libraries wholesale, so no stale file survives.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
