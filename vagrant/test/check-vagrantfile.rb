# Load vagrant/Vagrantfile with a small stub of the Vagrant API and check the
# settings it makes for each host architecture, Vagrant version and box
# override. Unlike `vagrant validate`, this needs only Ruby, and it also covers
# the arm64 branch and the VMware and Parallels blocks, whose Vagrant plugins
# Debian does not package.
#
#   ruby vagrant/test/check-vagrantfile.rb [path/to/Vagrantfile]
#
# Each case runs in a forked process, because the Vagrantfile reads ENV and the
# stub's Vagrant::VERSION when it loads. Prints "N passed, N failed" and exits
# 1 on any failure.

require "rbconfig"

VAGRANTFILE = File.expand_path(ARGV[0] || File.join(__dir__, "..", "Vagrantfile"))

# Records what the Vagrantfile sets through config.vm.
class VMRecorder
  attr_reader :settings, :synced_folders, :provisioners, :providers

  def initialize
    @settings = {}
    @synced_folders = {}
    @provisioners = []
    @providers = []
  end

  def synced_folder(host, guest, **opts)
    @synced_folders[guest] = opts.merge(host: host)
  end

  def provision(name, **opts)
    @provisioners << opts.merge(name: name)
  end

  def provider(name, &block)
    @providers << [name.to_s, block]
  end

  def method_missing(name, *args)
    key = name.to_s
    return super unless key.end_with?("=") && args.size == 1

    @settings[key.chomp("=")] = args.first
  end

  def respond_to_missing?(name, include_private = false)
    name.to_s.end_with?("=") || super
  end
end

# Records the settings of one provider block.
class ProviderRecorder
  attr_reader :settings, :vmx

  def initialize
    @settings = {}
    @vmx = {}
  end

  def method_missing(name, *args)
    key = name.to_s
    return super unless key.end_with?("=") && args.size == 1

    @settings[key.chomp("=")] = args.first
  end

  def respond_to_missing?(name, include_private = false)
    name.to_s.end_with?("=") || super
  end
end

# Stand-in for the config object that Vagrant.configure yields.
class ConfigRecorder
  attr_reader :vm

  def initialize
    @vm = VMRecorder.new
  end
end

# Loads the Vagrantfile with the stub API under env and vagrant_version, and
# returns the recorded config with each provider block run against recorders.
def load_vagrantfile(env, vagrant_version)
  stub = Module.new
  stub.const_set(:VERSION, vagrant_version)
  requirements = []
  configs = []
  stub.define_singleton_method(:require_version) { |*reqs| requirements.concat(reqs) }
  stub.define_singleton_method(:configure) do |version, &block|
    raise "Vagrant.configure(#{version.inspect}): expected \"2\"" unless version == "2"

    config = ConfigRecorder.new
    block.call(config)
    configs << config
  end
  Object.const_set(:Vagrant, stub)

  env.each { |key, value| value.nil? ? ENV.delete(key) : ENV[key] = value }
  load VAGRANTFILE

  raise "Vagrant.configure ran #{configs.size} times, expected once" unless configs.size == 1

  config = configs.first
  providers = config.vm.providers.map do |name, block|
    provider = ProviderRecorder.new
    override = ConfigRecorder.new
    block.call(provider, override)
    [name, provider, override]
  end
  { config: config, providers: providers, requirements: requirements }
end

# Runs one case in a child process, so each load starts from a clean Ruby.
# The block gets the loaded result and returns a list of problems.
def run_case(name, env, vagrant_version, &check)
  reader, writer = IO.pipe
  pid = fork do
    reader.close
    problems =
      begin
        check.call(load_vagrantfile(env, vagrant_version))
      rescue StandardError, ScriptError => e
        check.parameters.size == 2 ? check.call(nil, e) : ["#{e.class}: #{e.message}"]
      end
    writer.write(Marshal.dump(problems))
    writer.close
    exit!(0)
  end
  writer.close
  data = reader.read
  Process.wait(pid)
  problems = data.empty? ? ["child process died with #{$?.inspect}"] : Marshal.load(data)
  if problems.empty?
    puts "ok   #{name}"
    true
  else
    puts "FAIL #{name}"
    problems.each { |p| puts "       #{p}" }
    false
  end
end

def expect(problems, what, got, want)
  problems << "#{what}: got #{got.inspect}, want #{want.inspect}" unless got == want
end

NO_OVERRIDES = {
  "RT_LAB_VM_ARCH" => nil, "RT_LAB_VM_BOX" => nil,
  "RT_LAB_VM_BOX_VERSION" => nil, "RT_LAB_VM_BOX_URL" => nil
}.freeze
SOURCE_IN_VM = "/home/vagrant/rt-lab".freeze
VAGRANT_DIR = File.dirname(VAGRANTFILE)

# common_problems checks what every case shares: the shared source, the
# provisioner, 2 CPUs and 2 GB for every provider.
def common_problems(result)
  problems = []
  vm = result[:config].vm
  expect(problems, "box_check_update", vm.settings["box_check_update"], false)
  expect(problems, "default /vagrant share", vm.synced_folders.dig("/vagrant", :disabled), true)
  source = vm.synced_folders[SOURCE_IN_VM]
  if source.nil?
    problems << "no synced folder at #{SOURCE_IN_VM}"
  else
    host = File.expand_path(source[:host], VAGRANT_DIR)
    problems << "synced folder host path #{host} has no go.mod" unless File.file?(File.join(host, "go.mod"))
  end
  expect(problems, "provisioners", vm.provisioners.size, 1)
  prov = vm.provisioners.first || {}
  expect(problems, "provisioner type", prov[:type], "shell")
  expect(problems, "provisioner args", prov[:args], [SOURCE_IN_VM])
  unless prov[:path] && File.file?(File.expand_path(prov[:path], VAGRANT_DIR))
    problems << "provisioner path #{prov[:path].inspect} is not a file next to the Vagrantfile"
  end

  result[:providers].each do |name, provider, _override|
    got =
      if name == "vmware_desktop"
        [provider.vmx["numvcpus"], provider.vmx["memsize"]]
      else
        [provider.settings["cpus"], provider.settings["memory"]]
      end
    want = name == "vmware_desktop" ? %w[2 2048] : [2, 2048]
    expect(problems, "#{name} cpus and memory", got, want)
  end
  problems
end

def provider_names(result)
  result[:providers].map(&:first)
end

def libvirt_override(result)
  entry = result[:providers].find { |name, _, _| name == "libvirt" }
  entry && entry[2].vm
end

results = []

results << run_case("amd64 host, Vagrant 2.3.4", NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "amd64"), "2.3.4") do |r|
  problems = common_problems(r)
  vm = r[:config].vm
  expect(problems, "box", vm.settings["box"], "bento/debian-13")
  problems << "box_version #{vm.settings["box_version"].inspect} is not pinned" unless
    vm.settings["box_version"].to_s.match?(/\A\d{6}\.\d+\.\d+\z/)
  expect(problems, "box_architecture", vm.settings.key?("box_architecture"), false)
  expect(problems, "providers in order", provider_names(r), %w[virtualbox libvirt vmware_desktop parallels])
  expect(problems, "version requirements", r[:requirements], [])
  lv = libvirt_override(r)
  if lv
    expect(problems, "libvirt box", lv.settings["box"], "debian/trixie64")
    problems << "libvirt box_version #{lv.settings["box_version"].inspect} is not pinned" unless
      lv.settings["box_version"].to_s.match?(/\A13\.\d{8}\.\d+\z/)
    expect(problems, "libvirt synced folder type", lv.synced_folders.dig(SOURCE_IN_VM, :type), "rsync")
  end
  problems
end

results << run_case("arm64 host, Vagrant 2.4.9", NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "arm64"), "2.4.9") do |r|
  problems = common_problems(r)
  vm = r[:config].vm
  expect(problems, "box", vm.settings["box"], "bento/debian-13")
  expect(problems, "box_architecture", vm.settings["box_architecture"], "arm64")
  expect(problems, "providers in order", provider_names(r), %w[vmware_desktop parallels])
  expect(problems, "version requirements", r[:requirements], [">= 2.4.0"])
  problems
end

results << run_case("amd64 host, Vagrant 2.4.9", NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "amd64"), "2.4.9") do |r|
  problems = common_problems(r)
  # :auto, Vagrant's default, already picks amd64 on an x86_64 host.
  expect(problems, "box_architecture", r[:config].vm.settings.key?("box_architecture"), false)
  problems
end

host_cpu = RbConfig::CONFIG["host_cpu"]
host_arch = host_cpu.match?(/\A(aarch64|arm64)/) ? "arm64" : "amd64"
results << run_case("detected host architecture is #{host_arch} (#{host_cpu})", NO_OVERRIDES, "2.4.9") do |r|
  problems = common_problems(r)
  want = host_arch == "arm64" ? %w[vmware_desktop parallels] : %w[virtualbox libvirt vmware_desktop parallels]
  expect(problems, "providers in order", provider_names(r), want)
  problems
end

box_env = NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "arm64", "RT_LAB_VM_BOX" => "local/debian-13",
                             "RT_LAB_VM_BOX_VERSION" => "", "RT_LAB_VM_BOX_URL" => "file:///boxes/debian-13.box")
results << run_case("box override on arm64 with Vagrant 2.3.4", box_env, "2.3.4") do |r|
  problems = common_problems(r)
  vm = r[:config].vm
  expect(problems, "box", vm.settings["box"], "local/debian-13")
  expect(problems, "box_version", vm.settings.key?("box_version"), false)
  expect(problems, "box_url", vm.settings["box_url"], "file:///boxes/debian-13.box")
  expect(problems, "version requirements", r[:requirements], [])
  problems
end

box_env = NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "amd64", "RT_LAB_VM_BOX" => "local/debian-13",
                             "RT_LAB_VM_BOX_VERSION" => "1.2.3")
results << run_case("box override also applies to libvirt", box_env, "2.3.4") do |r|
  problems = common_problems(r)
  expect(problems, "box_version", r[:config].vm.settings["box_version"], "1.2.3")
  lv = libvirt_override(r)
  if lv.nil?
    problems << "no libvirt provider block"
  else
    expect(problems, "libvirt box override", lv.settings.key?("box"), false)
  end
  problems
end

results << run_case("invalid RT_LAB_VM_ARCH is rejected",
                    NO_OVERRIDES.merge("RT_LAB_VM_ARCH" => "sparc"), "2.4.9") do |r, error = nil|
  next ["loaded without an error"] if r

  problems = []
  expect(problems, "error class", error.class, ArgumentError)
  problems << "error #{error.message.inspect} does not name the value \"sparc\"" unless
    error.message.include?("\"sparc\"")
  problems << "error #{error.message.inspect} does not name the choices" unless
    error.message.include?("amd64 or arm64")
  problems
end

passed = results.count(true)
failed = results.count(false)
puts "check-vagrantfile: #{passed} passed, #{failed} failed"
exit(failed.zero? ? 0 : 1)
