; Inno Setup script: LayerLab's Windows installer, made from the PyInstaller bundle.
;
;   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\layerlab.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\layerlab.iss
;
; (.github/workflows/package.yml does both on a Windows runner.) Output:
; dist\layerlab-<version>-windows-x64-setup.exe.
;
; Installs per user without administrator rights by default (a classroom account rarely
; has them) or for all users when run as administrator; a Start menu entry, an optional
; desktop icon, and LayerLab in the "Open with" list of .json files. Windows picks the
; program for a file by its last extension only (".json"), so *.layerlab.json cannot get
; a type of its own there; LayerLab is offered, not imposed, for JSON files.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "LayerLab"
#define AppExe "layerlab.exe"
#define Bundle "..\..\dist\layerlab"

[Setup]
AppId={{6B0E7C1A-3C55-4C3B-9C7E-2E3C7A4B5D10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=LayerLab developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=layerlab-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\layerlab.ico
UninstallDisplayIcon={app}\{#AppExe}
; TensorFlow is most of the 1 GB: LZMA2 solid compression makes the download ~3x smaller.
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
ChangesAssociations=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Build a Keras network as a stack of layers"
Name: "{autoprograms}\{#AppName} self-test"; Filename: "{app}\layerlab-cli.exe"; Parameters: "--self-test"; Comment: "Check that LayerLab works on this computer"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; A ProgID for LayerLab projects, offered in "Open with" for .json files.
Root: HKA; Subkey: "Software\Classes\LayerLab.Project"; ValueType: string; ValueName: ""; ValueData: "LayerLab project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\LayerLab.Project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\LayerLab.Project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.json\OpenWithProgids"; ValueType: string; ValueName: "LayerLab.Project"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".json"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
